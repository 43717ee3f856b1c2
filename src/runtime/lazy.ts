/**
 * Loading code a process may never run, from the source tree or from its
 * bundle.
 *
 * Deno loads the whole module graph behind every string-literal import(),
 * dynamic ones included, before the importing module runs: measured here,
 * 5-15 ms for a module whose lazy import was never taken. So lazy imports
 * go through a computed specifier. deno compile cannot follow those:
 * scripts/compile.ts names each such module to it.
 *
 * A lazily loaded module is named by its path from the repository's root
 * (`src/cli/run.ts`), not relative to its importer: in the bundle the
 * importer's code sits in a chunk somewhere else. The bundle
 * (scripts/bundle.ts, `deno task bundle`) holds each such module as one
 * file plus chunks of shared code: Deno loads the ~100 modules of `run` as
 * a dozen files in half the time. main.ts chooses, once per process, and
 * says so through globalThis: the bundle carries its own copy of this
 * module, which must load from the same place.
 */

/** Where modules come from: the repository's root, and the bundle's directory if used. */
interface Origin {
  root: string;
  bundle?: string;
}

const ORIGIN = Symbol.for("ptd.origin");

type WithOrigin = { [ORIGIN]?: Origin };

/** The origin main.ts chose; in source, without main.ts (unit tests), this file's tree. */
function origin(): Origin {
  return (globalThis as WithOrigin)[ORIGIN] ??
    { root: new URL("../../", import.meta.url).href };
}

/** Where the bundle keeps the module that is `path` in the source tree. */
export function bundledName(path: string): string {
  return path.replace(/^src\//, "").replace(/\.ts$/, ".js");
}

/**
 * Loads every later lazy() of this process from `bundle` (a directory URL)
 * instead of the tree at `root`; main.ts calls it before loading anything.
 */
export function useOrigin(root: URL, bundle: URL | undefined): void {
  (globalThis as WithOrigin)[ORIGIN] = {
    root: root.href,
    bundle: bundle?.href,
  };
}

/** Imports the module at `path` from the repository's root ("src/x/y.ts"). */
export function lazy<T>(path: string): Promise<T> {
  const o = origin();
  return import(
    o.bundle === undefined
      ? new URL(path, o.root).href
      : new URL(bundledName(path), o.bundle).href
  );
}

/** The host path of a file of the repository (main.ts, a data file of src/). */
export function repoPath(path: string): string {
  return new URL(path, origin().root).pathname;
}
