/**
 * The dependency direction of DESIGN.md, checked on the source: each folder
 * imports only folders below it (static imports, `import()`, `new URL(...,
 * import.meta.url)` and the paths from the root that lazy loading names,
 * "src/x/y.ts"), so each part can be read and tested without the ones above
 * it.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { REPO } from "../helpers.ts";

/** Folder -> its level; a folder may import only lower levels (and itself). */
const LEVEL: Record<string, number> = {
  "ffi": 0,
  "src/runtime": 1,
  "src/storage": 2,
  "src/image": 3,
  "src/volume": 3,
  "src/network": 3,
  "src/security": 3,
  "src/container": 4,
  "src/engine": 5,
  // The REST API is a front end beside the CLI; the CLI only starts it
  // (`system service`), so it sits above, and the API never imports it.
  "src/api": 6,
  // Kubernetes YAML, out and in: a front end beside the API, over the engine.
  "src/kube": 6,
  "src/cli": 7,
};

const SPECIFIER =
  /(?:from\s+|import\(\s*|new URL\(\s*)"(\.{1,2}\/[^"]+)"(?:,\s*import\.meta\.url)?/g;

/** A module named from the repository's root, as lazy() takes it. */
const ROOTED = /"((?:src|ffi)\/[\w/]+\.ts)"/g;

function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* sources(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

/** The folder of LEVEL a repository path lies in, if any. */
function folderOf(path: string): string | undefined {
  return Object.keys(LEVEL).find((f) => path === f || path.startsWith(`${f}/`));
}

/** "from -> to" for each import that goes sideways or up. */
function violations(): string[] {
  const out: string[] = [];
  for (const folder of Object.keys(LEVEL)) {
    for (const file of sources(join(REPO, folder))) {
      const text = Deno.readTextFileSync(file);
      const targets = [
        ...[...text.matchAll(SPECIFIER)].map(([, spec]) =>
          relative(REPO, join(dirname(file), spec))
        ),
        ...[...text.matchAll(ROOTED)].map(([, path]) => path),
      ];
      for (const target of targets) {
        const to = folderOf(target);
        if (to === undefined || to === folder) continue;
        if (LEVEL[to] >= LEVEL[folder]) {
          out.push(`${relative(REPO, file)} -> ${target}`);
        }
      }
    }
  }
  return out;
}

Deno.test("folders import only folders below them", () => {
  assert.deepEqual(violations(), []);
});
