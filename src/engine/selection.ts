/**
 * Which containers a bulk verb (rm, start, stop, kill, restart, pause,
 * unpause) acts on, as Podman decides it: the names given, ids read from
 * --cidfile files, --all, --latest or --filter. Every name is looked up
 * before anything is done, so one missing name stops the command before it
 * touched the others (unless --ignore drops the missing ones).
 */
import type { ContainerConfig } from "../container/config.ts";
import { dependentsOf } from "../container/dependencies.ts";
import { invalid, isKind, notFound } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import {
  containerStore,
  containersWithState,
  filterContainers,
  type Listed,
  parseContainerFilters,
} from "./listing.ts";

/** What a bulk verb was asked to act on. */
export interface Selection {
  /** Names or ids as given. */
  refs: string[];
  /** Files holding a container id each (--cidfile). */
  cidfiles?: string[];
  /** Every container `scope` admits. */
  all?: boolean;
  /** The newest container. */
  latest?: boolean;
  /** --filter KEY=VALUE. */
  filters?: string[];
  /** Drop names that match no container instead of failing. */
  ignore?: boolean;
}

/** One container to act on, and how to name it in the output. */
export interface Target {
  /** The name as given; the full id for --all, --latest and --filter. */
  input: string;
  c: ContainerConfig;
}

/** Podman's checks of a selection: what goes with what. */
function validate(sel: Selection) {
  const named = sel.refs.length > 0 || (sel.cidfiles ?? []).length > 0;
  if (sel.all && sel.latest) {
    throw invalid("--all and --latest cannot be used together");
  }
  if (named && sel.all) throw invalid("no arguments are needed with --all");
  if (named && sel.latest) {
    throw invalid("--latest and containers cannot be used together");
  }
  if (!named && !sel.all && !sel.latest && !(sel.filters ?? []).length) {
    throw invalid("you must provide at least one name or id");
  }
}

/**
 * The newest container, which Podman's --latest names; with none at all,
 * Podman's "no such container".
 */
export async function latestContainer(e: Engine): Promise<ContainerConfig> {
  const last = (await containersWithState(e)).at(-1);
  if (!last) throw notFound("no such container");
  return last.c;
}

function readCidfile(path: string): string {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : e instanceof Error
      ? e.message
      : String(e);
    throw invalid(`reading CIDFile: open ${path}: ${why}`);
  }
}

/**
 * The containers a selection names, in the order given (oldest first for
 * --all and --filter); `scope` narrows --all (e.g. running ones for kill).
 * A missing name is not-found, unless `ignore`.
 */
export async function selectContainers(
  e: Engine,
  sel: Selection,
  scope: (x: Listed) => boolean = () => true,
): Promise<Target[]> {
  validate(sel);
  const filters = parseContainerFilters(sel.filters ?? []);
  const byId = (x: Listed): Target => ({ input: x.c.id, c: x.c });
  if (sel.all) {
    return (await filterContainers(e, filters)).filter(scope).map(byId);
  }
  if (sel.latest) {
    const c = await latestContainer(e);
    return [{ input: c.id, c }];
  }
  const store = containerStore(e);
  const named: Target[] = [];
  for (const ref of [...sel.refs, ...(sel.cidfiles ?? []).map(readCidfile)]) {
    try {
      named.push({ input: ref, c: store.find(ref) });
    } catch (err) {
      if (!(sel.ignore && isKind(err, "not-found"))) throw err;
    }
  }
  if (filters.size === 0) return named;
  const matching = await filterContainers(e, filters);
  if (sel.refs.length === 0 && !(sel.cidfiles ?? []).length) {
    return matching.map(byId);
  }
  const ids = new Set(matching.map((x) => x.c.id));
  return named.filter((t) => ids.has(t.c.id));
}

/**
 * `rm --depend`: the containers that depend on a target (dependencies.ts)
 * come before it, theirs before them, each once; all named by id, as
 * Podman prints them then.
 */
export function withDependents(e: Engine, targets: Target[]): Target[] {
  const store = containerStore(e);
  const out: Target[] = [];
  const seen = new Set<string>();
  const visit = (t: Target) => {
    if (seen.has(t.c.id)) return;
    seen.add(t.c.id);
    for (const d of dependentsOf(store, t.c)) visit({ input: d.id, c: d });
    out.push({ input: t.c.id, c: t.c });
  };
  targets.forEach(visit);
  return out;
}
