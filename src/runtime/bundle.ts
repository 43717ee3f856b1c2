/**
 * Whether the bundle (`deno task bundle`, scripts/bundle.ts) may stand for
 * the source tree. It records the size and modification time of every file
 * it was made from; a bundle is used only while each of them is unchanged
 * and Deno is the one that made it, so an edited, checked out or missing
 * file means source again, never stale code. The check is a stat per file
 * (~3 ms for the tree), against the ~10 ms the bundle saves a CLI command;
 * the processes ptd starts (monitor, init, helpers) are told the answer
 * through the environment and load from the same place without checking.
 */

/**
 * Where bundles live, from the repository's root. Each is a directory of
 * its own, named by its version, never changed once written; `current.json`
 * names the newest and holds its manifest. A process keeps loading from the
 * version it started with, however often the bundle is made again, and
 * scripts/bundle.ts removes a version only once no process uses it.
 */
export const BUNDLES_DIR = "dist/bundle/";

/** The file naming the current version, inside BUNDLES_DIR. */
export const CURRENT = "current.json";

/** The file of a version a process holds a shared lock on while it uses it. */
export const LOCK = "lock";

/** What a bundle was made from: Deno's version, and each file's [mtime ms, size]. */
export interface BundleManifest {
  /** The version's directory name inside BUNDLES_DIR. */
  version: string;
  deno: string;
  files: Record<string, [number, number]>;
}

/** A file's [mtime ms, size] as the manifest records it. */
export function fileStamp(path: string): [number, number] {
  const st = Deno.statSync(path);
  return [st.mtime?.getTime() ?? 0, st.size];
}

/**
 * The current bundle's directory URL under `root` when it is there and
 * every file it was made from is as it was; undefined otherwise.
 */
export function freshBundle(root: URL): URL | undefined {
  const dir = new URL(BUNDLES_DIR, root);
  try {
    const m = JSON.parse(
      Deno.readTextFileSync(new URL(CURRENT, dir)),
    ) as BundleManifest;
    if (m.deno !== Deno.version.deno) return undefined;
    // Paths joined as strings: a URL parse per file doubles the check.
    const base = root.pathname;
    for (const [file, [mtime, size]] of Object.entries(m.files)) {
      const [now, bytes] = fileStamp(base + file);
      if (now !== mtime || bytes !== size) return undefined;
    }
    return new URL(`${m.version}/`, dir);
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
 * Takes a shared lock on the version at `dir` for this process's life,
 * false when that version is gone: scripts/bundle.ts removes a version
 * under an exclusive lock, so a version still there once locked stays.
 * The file is never closed: Deno's resource table keeps it, and the lock,
 * until the process ends (close-on-exec: no child inherits it).
 */
function hold(dir: URL): boolean {
  try {
    const f = Deno.openSync(new URL(LOCK, dir), { read: true });
    f.lockSync(false);
    try {
      Deno.statSync(dir);
    } catch {
      f.close();
      return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The bundle this process loads from: the version its parent chose while
 * it is there, else the fresh current one under `root` if any (again if a
 * newer one replaced it meanwhile); the choice is passed on to children.
 */
export function chooseBundle(root: URL): URL | undefined {
  const told = Deno.env.get(BUNDLE_ENV);
  let bundle = told ? new URL(told) : undefined;
  if (told === undefined || (bundle && !hold(bundle))) {
    bundle = undefined;
    for (let tries = 0; tries < 2 && !bundle; tries++) {
      const fresh = freshBundle(root);
      if (!fresh) break;
      if (hold(fresh)) bundle = fresh;
    }
  }
  Deno.env.set(BUNDLE_ENV, bundle?.href ?? "");
  return bundle;
}
