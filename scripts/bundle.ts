/**
 * `deno task bundle`: the source tree as the bundle main.ts loads instead
 * (src/runtime/lazy.ts says why, src/runtime/bundle.ts when). Every module
 * loaded lazily (named by a "src/....ts" literal in main.ts or src/) is an
 * entry point of `deno bundle --code-splitting`: one file each, with the
 * code they share in chunks, npm packages left to Deno's resolver. The
 * manifest records every file of src/ and ffi/ and deno.json as they were
 * before bundling, so a file changed meanwhile makes the bundle stale, not
 * wrong. The new bundle replaces the old by renames: a ptd starting
 * meanwhile loads one or the other whole, or falls back to source.
 */
import {
  BUNDLE_DIR,
  type BundleManifest,
  fileStamp,
  MANIFEST,
} from "../src/runtime/bundle.ts";
import { bundledName } from "../src/runtime/lazy.ts";
import { lazyModules, ROOT as root, sourceFiles } from "./sources.ts";

const sources = sourceFiles();
const manifest: BundleManifest = {
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
const dir = `${root}${BUNDLE_DIR.replace(/\/$/, "")}`;
const tmp = `${dir}.tmp-${Deno.pid}`;
const old = `${dir}.old-${Deno.pid}`;

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
Deno.writeTextFileSync(`${tmp}/${MANIFEST}`, JSON.stringify(manifest));
try {
  Deno.renameSync(dir, old);
} catch { /* no bundle yet */ }
Deno.renameSync(tmp, dir);
await Deno.remove(old, { recursive: true }).catch(() => {});
console.log(`bundle: ${targets.length} modules in ${BUNDLE_DIR}`);
