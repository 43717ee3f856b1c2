/**
 * `ptd healthcheck run NAME`: one check now, as Podman's systemd timer
 * runs it: exit 0 when it passed, "unhealthy" and exit 1 when it failed.
 */
import { userEngine } from "../engine/engine.ts";
import { runHealthcheck } from "../engine/health.ts";
import type { CommandSpec } from "./spec.ts";

/** `ptd healthcheck run`. */
export const healthcheckRunSpec: CommandSpec = {
  name: "run",
  description: "run the health check of a container",
  options: [],
  args: [["<container>", "name or id"]],
  action: async (ref: string) => {
    if (await runHealthcheck(userEngine(), ref)) return 0;
    console.log("unhealthy");
    return 1;
  },
};
