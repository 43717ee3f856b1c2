/**
 * What the build scripts (bundle.ts, compile.ts) need to know of the tree:
 * its source files, and the modules loaded lazily, which no static import
 * names (src/runtime/lazy.ts), so each build is told of them.
 */

/** The repository's root, as a path ending in "/". */
export const ROOT = new URL("../", import.meta.url).pathname;

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (/\.(ts|json)$/.test(e.name)) yield path;
  }
}

/** main.ts and every .ts and .json file of src/ and ffi/, from the root. */
export function sourceFiles(): string[] {
  return ["main.ts", ...walk("src"), ...walk("ffi")];
}

/**
 * Each module some code loads lazily, by the literal that names it (only
 * source files: comments name examples too).
 */
export function lazyModules(sources: string[] = sourceFiles()): string[] {
  const found = new Set<string>();
  for (const file of sources.filter((f) => f.endsWith(".ts"))) {
    const text = Deno.readTextFileSync(`${ROOT}${file}`);
    for (const [, path] of text.matchAll(/"(src\/[\w/]+\.ts)"/g)) {
      found.add(path);
    }
  }
  return [...found].filter((p) => sources.includes(p)).sort();
}
