/**
 * The engine: what every front end (the CLI now; the REST API, build,
 * generate systemd and play kube to come) calls, so none of them holds
 * engine logic or builds a store of its own. An Engine is only the store
 * paths and the stores made from them, each built once and only when an
 * operation needs it; the operations live in modules by area (listing.ts,
 * lifecycle.ts, create.ts, images.ts, volumes.ts, ...) that a front end
 * imports as it needs them, so `ps` never loads the code that creates
 * containers or pulls. Operations take typed requests and return plain
 * data; they never print, read flags or exit, and fail with a PtdError.
 */
import { type StorePaths, storePaths } from "../storage/paths.ts";

/** The store paths of one user, and the stores built from them. */
export class Engine {
  #stores = new Map<unknown, unknown>();

  constructor(readonly paths: StorePaths) {}

  /**
   * The one store of class `make` for these paths, built on first use: the
   * Engine imports no store, so a command loads only the stores it uses.
   */
  store<T>(make: new (paths: StorePaths) => T): T {
    let s = this.#stores.get(make) as T | undefined;
    if (s === undefined) {
      s = new make(this.paths);
      this.#stores.set(make, s);
    }
    return s;
  }
}

/** What a prune removed, and what it could not (the rest still went). */
export interface PruneReport<T> {
  removed: T[];
  errors: { id: string; error: unknown }[];
}

/** The engine of the calling user (PTD_ROOT/PTD_RUNROOT honoured). */
export function userEngine(): Engine {
  return new Engine(storePaths());
}
