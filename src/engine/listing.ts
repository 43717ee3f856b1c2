/**
 * The engine's read side for containers: finding them, `ps` rows with
 * Docker's filters and order, and inspect documents. Loads none of the code
 * that starts, stops or creates containers.
 */
import type { ContainerConfig, ContainerState } from "../container/config.ts";
import { isActive, reconcile, reconcileKept } from "../container/liveness.ts";
import { inspectDoc, type PsRow, psRow } from "../container/present.ts";
import { ContainerStore } from "../container/store.ts";
import { invalid } from "../runtime/errors.ts";
import { VolumeStore } from "../volume/store.ts";
import type { Engine } from "./engine.ts";

/** The engine's container store. */
export const containerStore = (e: Engine): ContainerStore =>
  e.store(ContainerStore);

/** A container by name, full id or unique id prefix (not-found if none). */
export function findContainer(e: Engine, ref: string): ContainerConfig {
  return containerStore(e).find(ref);
}

/** Every container with its state as the processes alive say, oldest first. */
export async function containersWithState(
  e: Engine,
): Promise<{ c: ContainerConfig; state: ContainerState }[]> {
  const s = containerStore(e);
  const out = [];
  for (const c of s.list()) {
    // A --rm container whose parent died is removed by reconcile: skipped.
    const state = await reconcileKept(s, c.id);
    if (state) out.push({ c, state });
  }
  return out;
}

/** The keys `ps --filter` knows. */
const FILTER_KEYS = ["name", "id", "status", "ancestor", "label"] as const;

/** One `ps` filter: KEY=VALUE. */
export interface ContainerFilter {
  key: typeof FILTER_KEYS[number];
  value: string;
}

/** Parses a `--filter KEY=VALUE` (Podman's messages for a bad one). */
export function parseContainerFilter(text: string): ContainerFilter {
  const i = text.indexOf("=");
  if (i < 0) {
    throw invalid(`invalid filter ${JSON.stringify(text)}: use key=value`);
  }
  const key = text.slice(0, i) as ContainerFilter["key"];
  if (!FILTER_KEYS.includes(key)) throw invalid(`${key} is an invalid filter`);
  return { key, value: text.slice(i + 1) };
}

function matches(f: ContainerFilter, c: ContainerConfig, status: string) {
  switch (f.key) {
    case "name":
      return new RegExp(f.value).test(c.name);
    case "id":
      return c.id.startsWith(f.value);
    case "status":
      return status === f.value;
    case "ancestor": {
      // c.image is the image's full name: a short one matches its end.
      const names = [f.value, `${f.value}:latest`];
      return names.some((n) => c.image === n || c.image.endsWith(`/${n}`)) ||
        c.imageId.startsWith(f.value);
    }
    case "label": {
      const j = f.value.indexOf("=");
      return j < 0
        ? f.value in c.labels
        : c.labels[f.value.slice(0, j)] === f.value.slice(j + 1);
    }
  }
}

/** What `ps` asks for. */
export interface PsQuery {
  /** Stopped containers too. */
  all?: boolean;
  /** Only the `last` newest (any state); `ps -l` is 1. */
  last?: number;
  filters?: ContainerFilter[];
}

/** `ps`: rows newest first, as Docker lists them. */
export async function listContainers(
  e: Engine,
  q: PsQuery = {},
): Promise<PsRow[]> {
  const filters = q.filters ?? [];
  const rows = [];
  for (const { c, state } of await containersWithState(e)) {
    const shown = q.all || q.last !== undefined || filters.length > 0 ||
      isActive(state);
    if (shown && filters.every((f) => matches(f, c, state.status))) {
      rows.push(psRow(c, state));
    }
  }
  rows.reverse();
  if (q.last !== undefined && q.last >= 0) rows.splice(q.last);
  return rows;
}

/** The inspect document of one container (Docker's shape). */
export async function inspectContainer(
  e: Engine,
  ref: string,
): Promise<Record<string, unknown>> {
  const s = containerStore(e);
  const c = s.find(ref);
  return inspectDoc(s, e.store(VolumeStore), c, await reconcile(s, c.id));
}
