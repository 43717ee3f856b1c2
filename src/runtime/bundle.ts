/**
 * Whether the bundle (`deno task bundle`, scripts/bundle.ts) may stand for
 * the source tree. It records the size and modification time of every file
 * it was made from; a bundle is used only while each of them is unchanged
 * and Deno is the one that made it, so an edited, checked out or missing
 * file means source again, never stale code. The check is a stat per file
 * (~2 ms for the tree), against the ~10 ms the bundle saves a CLI command;
 * the processes ptd starts (monitor, init, helpers) are told the answer
 * through the environment and load from the same place without checking.
 */

/** The bundle's directory, from the repository's root. */
export const BUNDLE_DIR = "dist/bundle/";

/** What the bundle was made from: Deno's version, and each file's [mtime ms, size]. */
export interface BundleManifest {
  deno: string;
  files: Record<string, [number, number]>;
}

/** The manifest's name inside the bundle's directory. */
export const MANIFEST = "manifest.json";

/** A file's [mtime ms, size] as the manifest records it. */
export function fileStamp(path: string): [number, number] {
  const st = Deno.statSync(path);
  return [st.mtime?.getTime() ?? 0, st.size];
}

/**
 * The bundle's directory URL under `root` when it is there and every file
 * it was made from is as it was; undefined otherwise.
 */
export function freshBundle(root: URL): URL | undefined {
  const dir = new URL(BUNDLE_DIR, root);
  try {
    const m = JSON.parse(
      Deno.readTextFileSync(new URL(MANIFEST, dir)),
    ) as BundleManifest;
    if (m.deno !== Deno.version.deno) return undefined;
    // Paths joined as strings: a URL parse per file doubles the check.
    const base = root.pathname;
    for (const [file, [mtime, size]] of Object.entries(m.files)) {
      const [now, bytes] = fileStamp(base + file);
      if (now !== mtime || bytes !== size) return undefined;
    }
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * How a ptd process tells the ptd processes it starts where to load from:
 * the bundle's URL, or "" for source. --env-host leaves PTD_* out of
 * containers, and init's command gets the container's environment.
 */
export const BUNDLE_ENV = "PTD_BUNDLE";

/**
 * The bundle this process loads from: the one its parent chose, else the
 * fresh one under `root` if any; the choice is passed on to children.
 */
export function chooseBundle(root: URL): URL | undefined {
  const told = Deno.env.get(BUNDLE_ENV);
  const bundle = told === undefined
    ? freshBundle(root)
    : told === ""
    ? undefined
    : new URL(told);
  Deno.env.set(BUNDLE_ENV, bundle?.href ?? "");
  return bundle;
}
