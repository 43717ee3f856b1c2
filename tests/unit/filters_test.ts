import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../assert.ts";
import {
  compileFilters,
  FORM_ERROR,
  labelsMatch,
  parseFilters,
} from "../../src/engine/filters.ts";
import { globMatch, parseImageSort } from "../../src/engine/images.ts";
import {
  parseContainerFilters,
  parsePruneFilters,
  parsePsSort,
} from "../../src/engine/listing.ts";

/** `fn` must fail with a message holding `text`. */
const throwsWith = (fn: () => unknown, text: string) =>
  assertStringIncludes(assertThrows(fn).message, text);

const SYNTAX = {
  keys: ["name", "label"],
  unknown: (k: string) => `no ${k}`,
  malformed: FORM_ERROR,
};

Deno.test("filters: values of one key gather, in order; bad ones in Podman's words", () => {
  assertEquals(
    parseFilters(["name=a", "label=x=y", "name=b=c"], SYNTAX),
    new Map([["name", ["a", "b=c"]], ["label", ["x=y"]]]),
  );
  throwsWith(() => parseFilters(["size=1"], SYNTAX), "no size");
  throwsWith(
    () => parseFilters(["name"], SYNTAX),
    "filter input must be in the form of filter=value: name is invalid",
  );
  throwsWith(
    () => parseContainerFilters(["bogus=1"]),
    "bogus is an invalid filter",
  );
  throwsWith(() => parseContainerFilters(["name"]), 'invalid filter "name"');
  assertEquals(parseContainerFilters(["health=healthy", "pod=p"]).size, 2);
  // container prune takes only label and until.
  assertEquals(parsePruneFilters(["label=a", "until=1h"]).size, 2);
  throwsWith(() => parsePruneFilters(["name=x"]), "name is an invalid filter");
});

Deno.test("filters: a key's values are alternatives, keys must all hold, labels all", () => {
  const items: { name: string; labels: Record<string, string> }[] = [
    { name: "a", labels: { x: "1" } },
    { name: "b", labels: { x: "2", y: "" } },
    { name: "c", labels: {} },
  ];
  const keep = (args: string[]) =>
    items.filter(compileFilters(parseFilters(args, SYNTAX), {
      name: (vs) => (i) => vs.includes(i.name),
      label: (vs) => (i) => labelsMatch(vs, i.labels),
    })).map((i) => i.name);
  assertEquals(keep(["name=a", "name=b"]), ["a", "b"]);
  assertEquals(keep(["name=a", "name=b", "label=x=2"]), ["b"]);
  assertEquals(keep(["label=x"]), ["a", "b"]);
  assertEquals(keep(["label=x", "label=y"]), ["b"]);
  assertEquals(keep(["label=x=1", "label=x=2"]), []);
  assertEquals(keep([]), ["a", "b", "c"]);
});

Deno.test("filters: reference globs match as Go's path.Match", () => {
  assert(globMatch("*/bb*", "localhost/bb"));
  assert(globMatch("bb", "bb"));
  assert(!globMatch("bb", "bbb"));
  assert(!globMatch("*", "a/b"));
  assert(globMatch("b?", "bb"));
  assert(globMatch("[ab]b", "bb"));
  assert(globMatch("[!a]b", "bb"));
  assert(globMatch("a.b", "a.b"));
  assert(!globMatch("a.b", "axb"));
});

Deno.test("sort keys: Podman's, and Podman's messages for others", () => {
  assertEquals(parsePsSort("runningfor"), "runningfor");
  throwsWith(
    () => parsePsSort("bogus"),
    'invalid argument "bogus" for "--sort" flag: "bogus" is not a valid value.  Choose from: "command, created, id, image, names, runningfor, size, status"',
  );
  assertEquals(parseImageSort("tag"), "tag");
  throwsWith(
    () => parseImageSort("names"),
    '"names" is not a valid field for sorting. Choose from: created, id, repository, size, tag',
  );
});
