/**
 * Loading code a process may never run. Deno loads the whole module graph
 * behind every string-literal import(), dynamic ones included, before the
 * importing module runs: measured here, 5-15 ms for a module whose lazy
 * import was never taken. So lazy imports go through a computed URL. deno
 * compile cannot follow those: the compile task names each such module
 * with --include.
 */

/** Imports the module at `url` (new URL("./x.ts", import.meta.url)). */
export function lazy<T>(url: URL): Promise<T> {
  return import(url.href);
}
