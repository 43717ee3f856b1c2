/**
 * `wait --condition`: waiting for a container to reach one of Podman's
 * states rather than only for its exit. Podman prints the exit code for an
 * exited (stopped) container and -1 for any other state reached.
 */
import * as life from "../container/lifecycle.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { containerStore } from "./listing.ts";

/** Podman's container states, as `wait --condition` names them. */
const STATES = [
  "configured",
  "created",
  "exited",
  "healthy",
  "initialized",
  "paused",
  "removing",
  "running",
  "stopped",
  "stopping",
  "unhealthy",
];

/** The states ptd can see a container in. */
const SEEN = ["configured", "created", "exited", "running", "stopped"];

/**
 * Checks --condition values before any container is looked up: unknown
 * ones in Podman's words, those ptd never reports refused plainly.
 */
export function checkConditions(conditions: string[]): void {
  for (const c of conditions) {
    if (!STATES.includes(c)) {
      throw invalid(`unknown container state: ${c}: invalid argument`);
    }
    if (!SEEN.includes(c)) {
      throw invalid(`wait --condition ${c}: ptd does not track that state`);
    }
  }
}

/**
 * Podman's --interval: a Go duration ("250ms", "1s") or a bare number of
 * milliseconds; the milliseconds.
 */
export function parseInterval(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$/.exec(value);
  if (!m) throw invalid(`time: invalid duration "${value}"`);
  const unit = {
    ns: 1e-6,
    us: 1e-3,
    "µs": 1e-3,
    ms: 1,
    s: 1e3,
    m: 6e4,
    h: 36e5,
  };
  return Number(m[1]) * unit[(m[2] ?? "ms") as keyof typeof unit];
}

/**
 * Waits until the container `ref` is in one of `conditions` (Podman's
 * default: stopped) and returns its exit code, or -1 for a state other
 * than stopped; polls every `intervalMs`.
 */
export async function waitForCondition(
  e: Engine,
  ref: string,
  conditions: string[],
  intervalMs = 250,
): Promise<number> {
  const store = containerStore(e);
  const c = store.find(ref);
  const stops = (x: string) => x === "stopped" || x === "exited";
  if (conditions.length === 0 || conditions.every(stops)) {
    return await life.waitContainer(store, c);
  }
  for (;;) {
    const s = await reconcile(store, c.id);
    const alive = monitorAlive(s);
    if (alive && s.status === "running" && conditions.includes("running")) {
      return -1;
    }
    if (
      !alive && s.status === "created" &&
      (conditions.includes("created") || conditions.includes("configured"))
    ) return -1;
    if (!alive && s.status === "exited" && conditions.some(stops)) {
      return s.exitCode;
    }
    await new Promise((ok) => setTimeout(ok, Math.max(1, intervalMs)));
  }
}
