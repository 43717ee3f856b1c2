/**
 * The --format template engine against Go's text/template as Podman runs
 * it: every expected text below is what `podman volume inspect --format
 * LINE` printed for a volume "tv" with the labels a=1, b=two, "c d"="x y"
 * (Podman 4.3, Go 1.19), errors included.
 */
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { ExecError, parseFormat } from "../../src/cli/template/exec.ts";
import { goJson, GoTime, withTimes } from "../../src/cli/template/value.ts";
import { goMap, goStruct } from "../../src/runtime/gomap.ts";
import {
  headers,
  isJson,
  renderReport,
  renderTemplate,
  tabwrite,
} from "../../src/cli/format.ts";

const VOLUME = {
  Name: "tv",
  Driver: "local",
  Mountpoint: "/m",
  CreatedAt: "x",
  Labels: goMap({ a: "1", b: "two", "c d": "x y" }),
  Scope: "local",
  Options: goMap({}),
  MountCount: 0,
  NeedsCopyUp: true,
};

/** [format, Podman's output, or its error after "Error: "]. */
const PODMAN: [string, string][] = [
  ["{{.Name}}", "tv\n"],
  ["{{.Labels}}", "map[a:1 b:two c d:x y]\n"],
  [
    '{{.Labels.a}}|{{.Labels.zz}}|{{index .Labels "b"}}|{{index .Labels "zz"}}|',
    "1|<no value>|two||\n",
  ],
  ["{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=two;c d=x y;\n"],
  ["{{range .Labels}}[{{.}}]{{else}}none{{end}}", "[1][two][x y]\n"],
  ["{{range .Options}}x{{else}}none{{end}}", "none\n"],
  ["{{if .Labels.a}}yes{{else}}no{{end}}", "yes\n"],
  ['{{if eq .Name "tv"}}A{{else if eq .Name "x"}}B{{else}}C{{end}}', "A\n"],
  ['{{if eq .Name "x"}}A{{else if eq .Name "tv"}}B{{else}}C{{end}}', "B\n"],
  ["{{with .Labels.b}}got {{.}}{{else}}none{{end}}", "got two\n"],
  ["{{with .Labels.zz}}got {{.}}{{else}}none{{end}}", "none\n"],
  ["{{len .Labels}} {{len .Name}} {{len .Options}}", "3 2 0\n"],
  [
    '{{printf "%s-%d-%5s|%-5s|%q|%v|%x" .Name 42 "ab" "cd" "q\\"x" .Labels "hi"}}',
    'tv-42-   ab|cd   |"q\\"x"|map[a:1 b:two c d:x y]|6869\n',
  ],
  [
    '{{printf "%d" "x"}} {{printf "%s" 5}} {{printf "%s"}} {{printf "a" 1}}',
    "%!d(string=x) %!s(int=5) %!s(MISSING) a%!(EXTRA int=1)\n",
  ],
  ['{{.Name | printf "%s!"}} {{.Name | upper | lower}}', "tv! tv\n"],
  [
    "{{json .Labels}} {{json .Name}} {{json .MountCount}} {{json .Options}}",
    '{"a":"1","b":"two","c d":"x y"} "tv" 0 {}\n',
  ],
  ['{{join (split "a,b,c" ",") "+"}} {{split "a,b" ","}}', "a+b+c [a b]\n"],
  [
    '{{upper "abc"}} {{lower "ABC"}} {{title "hello wide-world foo_bar"}}',
    "ABC abc Hello Wide-World Foo_bar\n",
  ],
  [
    '{{truncate "abcdef" 3}}|{{truncate "ab" 3}}|{{truncate "abc" 3}}',
    "abc|ab|abc\n",
  ],
  ['{{pad "ab" 2 3}}|{{pad "" 2 3}}|', "  ab   ||\n"],
  ['{{$x := .Name}}{{$x}} {{$x = "y"}}{{$x}}', "tv y\n"],
  ['{{- " trimmed " -}}   .', " trimmed .\n"],
  [
    '{{and 1 0 2}} {{and 1 2}} {{or 0 "" 3}} {{or 0 ""}} {{not 0}} {{not .Labels}}',
    "0 2 3  true false\n",
  ],
  [
    '{{eq 1 1 2}} {{eq "a" "b"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}',
    "true false true true true true false\n",
  ],
  ['{{index "abc" 1}} {{slice "abcdef" 1 3}}', "98 bc\n"],
  ['{{print 1 2 "a" "b" 3}} {{println "x" 1}}', "1 2ab3 x 1\n\n"],
  ["{{.MountCount}} {{.NeedsCopyUp}} {{.Scope}}", "0 true local\n"],
  ["{{/* a comment */}}c{{- /* trimmed comment */ -}} d", "cd\n"],
  ['{{range $i, $e := split "x,y" ","}}{{$i}}:{{$e}} {{end}}', "0:x 1:y \n"],
  [
    '{{range split "a,b,c" ","}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}',
    "ac\n",
  ],
  [
    '{{range split "a,b,c" ","}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}',
    "a\n",
  ],
  ['{{(index (split "a.b" ".") 1)}}', "b\n"],
  ["{{.Labels.a | len}}", "1\n"],
  ['{{ .Name }}{{"\\t"}}{{"\\n"}}x', "tv\t\nx"],
  [
    "{{.Bogus}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <.Bogus>: can\'t evaluate field Bogus in type interface {}',
  ],
  [
    "{{.Name.Foo}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:18: executing "inspect" at <.Name.Foo>: can\'t evaluate field Foo in type string',
  ],
  [
    "{{index .Labels 1}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <index .Labels 1>: error calling index: value has type int; should be string',
  ],
  ["{{nosuch 1}}", 'Error: template: inspect:1: function "nosuch" not defined'],
  [
    "{{eq .Labels 1}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <eq .Labels 1>: error calling eq: incompatible types for comparison',
  ],
  [
    '{{eq 1 "a"}}',
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <eq 1 "a">: error calling eq: incompatible types for comparison',
  ],
  [
    "{{lt true false}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <lt true false>: error calling lt: invalid type for comparison',
  ],
  [
    "{{upper .Labels}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:19: executing "inspect" at <.Labels>: wrong type for value; expected string; got map[string]string',
  ],
  [
    '{{index (split "a" ",") 5}}',
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <index (split "a" ",") 5>: error calling index: index out of range: 5',
  ],
  ["{{if}}x{{end}}", "Error: template: inspect:1: missing value for if"],
  [
    "{{range .Name}}{{end}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:19: executing "inspect" at <.Name>: range can\'t iterate over tv',
  ],
  [
    "{{.Name 1}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <.Name>: Name has arguments but cannot be invoked as function',
  ],
  ["{{$y}}", 'Error: template: inspect:1: undefined variable "$y"'],
  ["{{if 1}}x", "Error: template: inspect:1: unexpected EOF"],
  [
    "{{len 3}}",
    'Error: inspecting object: printing inspect output: template: inspect:1:13: executing "inspect" at <len 3>: error calling len: len of type int',
  ],
  [
    '{{printf "%5.2f|%e|%g|%t|%c|%o|%b|%X|%+d|%05d" 3.14159 1234.5 0.000001 true 65 8 5 255 3 -42}}',
    " 3.14|1.234500e+03|1e-06|true|A|10|101|FF|+3|-0042\n",
  ],
];

/** What ptd prints for `format` over the volume, or its error message. */
function run(format: string): string {
  try {
    return parseFormat("inspect", format).execute([VOLUME]);
  } catch (e) {
    const prefix = e instanceof ExecError
      ? "inspecting object: printing inspect output: "
      : "";
    return `Error: ${prefix}${(e as Error).message}`;
  }
}

Deno.test("templates print what Podman's Go templates print", () => {
  for (const [format, want] of PODMAN) {
    assertEquals(run(format), want, format);
  }
});

Deno.test("tabwrite aligns as Podman's tabwriter (minwidth 12, padding 2)", () => {
  // Podman's own output for `ps -a --format "table {{.ID}} {{.Names}} {{.Image}}|"`.
  assertEquals(
    tabwrite(
      "CONTAINER ID\tNAMES\tIMAGE|\n085e8b490f39\trun1\tlocalhost/bb:test|\n" +
        "37ae691f0c32\tmade\t|\n",
    ),
    "CONTAINER ID  NAMES       IMAGE|\n085e8b490f39  run1        localhost/bb:test|\n" +
      "37ae691f0c32  made        |\n",
  );
  // A column is aligned only over the block of lines that have it.
  assertEquals(
    tabwrite("a\tb\tc\nxx\nlonger-cell\td\n"),
    "a           b           c\nxx\nlonger-cell  d\n",
  );
});

Deno.test("table formats: headers from field names, <no value> for the rest", async () => {
  const view = (n: string) =>
    goStruct(
      {
        ID: n,
        Names: n.toUpperCase(),
        Since: "now",
        Label: (k: string) => `L-${k}`,
      },
      "containers.psReporter",
    );
  const report = {
    name: "ps",
    indent: "  ",
    headers: headers("ID Names CreatedAt", { ID: "container id" }),
    view,
  };
  assertEquals(
    await renderReport(
      "table {{.ID}} {{.Names}} {{.Since}}",
      ["a", "b"],
      report,
    ),
    "CONTAINER ID  NAMES       <no value>\na             A           now\nb             B           now\n",
  );
  assertEquals(
    await renderReport("table {{.ID}}", ["a"], report, true),
    "a\n",
  );
  assertEquals(
    await renderReport('{{.ID}}\\t{{.Names}} {{.Label "x"}}', ["a"], report),
    "a\tA L-x\n",
  );
  assertEquals(headers("ImageID NeedsCopyUp ParentId ID"), {
    ImageID: "IMAGE ID",
    NeedsCopyUp: "NEEDS COPY UP",
    ParentId: "PARENT ID",
    ID: "ID",
  });
  await assertRejects(
    () => renderReport("{{.Nope}}", ["a"], report),
    /^template: ps:1:13: executing "ps" at <\.Nope>: can't evaluate field Nope in type containers\.psReporter$/,
  );
  await assertRejects(
    () => renderReport("{{nope}}", ["a"], report),
    /^template: ps:1: function "nope" not defined$/,
  );
});

Deno.test("--format json: arrays, json and {{json .}}, Podman's indents", async () => {
  for (
    const f of ["json", " json ", "{{json .}}", "{{ json . }}", "{{json}}"]
  ) {
    assertEquals(isJson(f), true, f);
  }
  assertEquals(isJson("{{json .Names}}"), false);
  const report = {
    name: "ls",
    indent: "  ",
    jsoniter: true,
    view: (x: unknown) => x,
  };
  assertEquals(await renderReport("json", [], report), "[]\n");
  // As Podman's `ps --format json` and `volume ls --format json` print them.
  assertEquals(
    await renderReport("json", [{
      Labels: goMap({ b: "2", a: "1" }),
      Namespaces: {},
      Networks: [],
      Size: null,
    }], report),
    '[\n  {\n    "Labels": {\n      "a": "1",\n      "b": "2"\n    },\n    "Namespaces": {\n      \n    },\n' +
      '    "Networks": [],\n    "Size": null\n  }\n]\n',
  );
  assertEquals(goJson({ a: "<&>", n: 1.5 }), '{"a":"<&>","n":1.5}');
  assertEquals(
    goJson(goMap({ b: 1, a: [] }), "     "),
    '{\n     "a": [],\n     "b": 1\n}',
  );
});

Deno.test("inspect documents: times are time.Time", () => {
  const doc = withTimes({
    Created: "2026-12-06T06:14:09.611215212Z",
    Name: "x",
    L: goMap({ a: "b" }),
  });
  const t = parseFormat("inspect", "{{.Created}}|{{json .Created}}|{{.L}}");
  assertEquals(
    t.execute([doc]),
    '2026-12-06 06:14:09.611215212 +0000 UTC|"2026-12-06T06:14:09.611215212Z"|map[a:b]\n',
  );
  assertEquals(
    String(new GoTime("2026-12-06T06:14:09Z")),
    "2026-12-06 06:14:09 +0000 UTC",
  );
  assertEquals(
    String(new GoTime("2026-12-06T06:14:09.100Z")),
    "2026-12-06 06:14:09.1 +0000 UTC",
  );
});

Deno.test("templates: trim markers across lines, variables in scope, else with", () => {
  const run1 = (f: string, v: unknown) => parseFormat("t", f).execute([v]);
  assertEquals(
    run1("{{range .A -}}\n  {{.}}\n{{- end}}", { A: ["x", "y"] }),
    "xy\n",
  );
  assertEquals(
    run1("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", {}),
    "2\n",
  );
  assertEquals(run1("{{with $y := .A}}{{$y}}{{end}}", { A: "v" }), "v\n");
  assertEquals(
    run1("{{with .B}}b{{else with .A}}{{.}}{{end}}", { A: "a", B: "" }),
    "a\n",
  );
  assertEquals(
    run1("{{range $i, $e := .M}}{{$i}}={{$e}} {{end}}", {
      M: goMap({ z: 1, a: 2 }),
    }),
    "a=2 z=1 \n",
  );
  assertEquals(
    run1("{{.M}} {{.S}} {{.N}}", { M: goMap({}), S: [], N: null }),
    "map[] [] <nil>\n",
  );
  assertEquals(
    run1('{{eq .M.missing "x"}} {{.M.missing}}', { M: goMap({}) }),
    "false <no value>\n",
  );
  assertThrows(
    () => run1("{{.A.B}}", { A: goStruct({}, "T") }),
    /can't evaluate field B in type T$/,
  );
  assertThrows(() => run1("{{if}}{{end}}", {}), /missing value for if$/);
});

Deno.test("one object (version, info): no range, Podman's escapes", async () => {
  const v = {
    Client: goStruct(
      { Version: "4.3.1", OsArch: "linux/amd64" },
      "define.Version",
    ),
  };
  assertEquals(
    await renderTemplate("version", "{{.Client.OsArch}}", v),
    "linux/amd64\n",
  );
  assertEquals(
    await renderTemplate("version", "{{.Client.Version}}\\t.", v),
    "4.3.1\t.\n",
  );
  await assertRejects(
    () => renderTemplate("version", "{{.Client.Nope}}", v),
    /^template: version:1:9: executing "version" at <\.Client\.Nope>: can't evaluate field Nope in type define\.Version$/,
  );
});
