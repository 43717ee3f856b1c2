/**
 * `deno task bundle`: the source tree as the bundle main.ts loads instead
 * (src/runtime/lazy.ts says why, src/runtime/bundle.ts when). Every module
 * loaded lazily (named by a "src/....ts" literal in main.ts or src/) is an
 * entry point of `deno bundle --code-splitting`: one file each, with the
 * code they share in chunks, npm packages left to Deno's resolver. The
 * manifest records every file of src/ and ffi/ and deno.json as they were
 * before bundling, so a file changed meanwhile makes the bundle stale, not
 * wrong. Each bundle is a version of its own (src/runtime/bundle.ts): it is
 * written whole, then named current by a rename, so a ptd starting
 * meanwhile loads the old or the new one, and versions that no process
 * holds any more are removed.
 */
import {
  type BundleManifest,
  BUNDLES_DIR,
  CURRENT,
  fileStamp,
  LOCK,
} from "../src/runtime/bundle.ts";
import { bundledName } from "../src/runtime/lazy.ts";
import { pidExists } from "../src/runtime/pids.ts";
import { lazyModules, ROOT as root, sourceFiles } from "./sources.ts";

const sources = sourceFiles();
// Named so that versions sort by age; the pid tells a builder's unfinished
// directory (VERSION.tmp) from a dead one's.
const version = `${Date.now().toString(36)}-${Deno.pid}`;
const manifest: BundleManifest = {
  version,
  deno: Deno.version.deno,
  files: Object.fromEntries(
    [...sources.filter((f) => f !== "main.ts"), "deno.json"].map((
      f,
    ) => [f, fileStamp(`${root}${f}`)]),
  ),
};
const targets = lazyModules(sources);
// npm packages stay Deno's to resolve and load (through deno.json's
// imports), as from source: --packages=external keeps only bare npm:
// specifiers out of the bundle, not those the import map names.
const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
const external = Object.keys(config.imports ?? {}).map((k) =>
  `--external=${k.endsWith("/") ? `${k}*` : k}`
);
const dir = `${root}${BUNDLES_DIR}`;
const tmp = `${dir}${version}.tmp`;
Deno.mkdirSync(dir, { recursive: true });

const out = await new Deno.Command(Deno.execPath(), {
  args: [
    "bundle",
    "--quiet",
    `--config=${root}deno.json`,
    "--code-splitting",
    "--platform=deno",
    ...external,
    `--outdir=${tmp}`,
    ...targets.map((t) => `${root}${t}`),
  ],
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!out.success) {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  console.error("bundle: deno bundle failed; ptd runs from source");
  Deno.exit(1);
}
const missing = targets.filter((t) => {
  try {
    Deno.statSync(`${tmp}/${bundledName(t)}`);
    return false;
  } catch {
    return true;
  }
});
if (missing.length) {
  await Deno.remove(tmp, { recursive: true });
  console.error(`bundle: no output for ${missing.join(", ")}`);
  Deno.exit(1);
}
Deno.writeTextFileSync(`${tmp}/${LOCK}`, "");
Deno.renameSync(tmp, `${dir}${version}`);
Deno.writeTextFileSync(`${dir}${version}.${CURRENT}`, JSON.stringify(manifest));
Deno.renameSync(`${dir}${version}.${CURRENT}`, `${dir}${CURRENT}`);
prune();
console.log(`bundle: ${targets.length} modules in ${BUNDLES_DIR}${version}`);

/**
 * Removes every older version no process holds (a ptd holds a shared lock
 * on the version it loads from for its whole life), unfinished ones of
 * builders that died, and what else is not a bundle (an older layout).
 * The exclusive lock is held while the version goes, so that a process
 * told to load from it sees it gone once it has its lock, and chooses
 * again.
 */
function prune() {
  for (const e of Deno.readDirSync(dir)) {
    if (e.name === version || e.name === CURRENT) continue;
    const path = `${dir}${e.name}`;
    const builder = e.name.match(/^[0-9a-z]+-(\d+)\.(tmp|current\.json)$/);
    if (builder && pidExists(Number(builder[1]))) continue;
    let lock: Deno.FsFile | undefined;
    try {
      lock = Deno.openSync(`${path}/${LOCK}`, { read: true });
      if (!lock.tryLockSync(true)) {
        lock.close();
        continue;
      }
    } catch { /* no lock file: not a finished version */ }
    try {
      Deno.removeSync(path, { recursive: true });
    } finally {
      lock?.close();
    }
  }
}
