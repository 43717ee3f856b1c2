/**
 * The health check's timer, in the container's parent (monitor or
 * foreground run): every interval while the container runs it starts
 * `ptd health-check ID` (health.ts) and waits for it, so checks never
 * overlap and the parent, which lives as long as the container, loads
 * none of the check's code and keeps none of its garbage. The container's
 * end ends the timer; a check still running dies with the container's PID
 * namespace, and its process then ends.
 */
import { waitStatus } from "../../ffi/clone.ts";
import { spawn } from "../../ffi/spawn.ts";
import { selfCommand } from "../runtime/self.ts";
import type { ContainerConfig } from "./config.ts";
import { startingHealth } from "./health_config.ts";
import type { ContainerStore } from "./store.ts";

/** The hidden subcommand that runs one check (main.ts). */
const HEALTH_CHECK_COMMAND = "health-check";

/**
 * Starts over as "starting" and checks every interval from now on (the
 * first after one interval, as Docker and Podman do); the returned
 * function ends it.
 */
export async function watchHealth(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<() => void> {
  await store.updateState(c.id, (s) => ({
    ...s,
    health: startingHealth(s.health),
  }));
  const interval = (c.host.healthcheck?.Interval ?? 0) / 1e6;
  const self = selfCommand();
  let over = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const check = spawn([
        self.path,
        ...self.args,
        HEALTH_CHECK_COMMAND,
        c.id,
      ]);
      await waitStatus(check.pid);
    } catch { /* could not start one: try again next time */ }
    if (!over) timer = setTimeout(tick, interval);
  };
  if (interval > 0) timer = setTimeout(tick, interval);
  return () => {
    over = true;
    clearTimeout(timer);
  };
}
