/**
 * `generate systemd`: the unit of each container named, from the engine's
 * record of it, with ptd's own path as the executable.
 */
import type { Engine } from "../engine/engine.ts";
import { containerStore } from "../engine/listing.ts";
import { PTD_VERSION } from "../engine/system.ts";
import { invalid } from "../runtime/errors.ts";
import { ptdExecutable } from "./exe.ts";
import { containerUnit, serviceName, type UnitOptions } from "./unit.ts";

/** Go's time.Time.String() of the header, as Podman prints it. */
function headerTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const day = d.toUTCString().slice(0, 3);
  const mon = d.toUTCString().slice(8, 11);
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2)} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** The units of container `ref`, by service name. */
export function generateUnits(
  e: Engine,
  ref: string,
  o: UnitOptions,
): Record<string, string> {
  const store = containerStore(e);
  let c;
  try {
    c = store.find(ref);
  } catch {
    // Podman looks for a pod too; ptd has none.
    throw invalid(
      `${ref} does not refer to a container or pod: no pod with name or ID ${ref} found: no such pod: no container with name or ID "${ref}" found: no such container`,
    );
  }
  if (o.new && !c.createCommand) {
    throw invalid(
      `cannot use --new on container ${
        JSON.stringify(c.id)
      }: no create command found: only works on containers created directly with ptd but not with the API`,
    );
  }
  const unit = {
    id: c.id,
    name: c.name,
    createCommand: c.createCommand ?? [],
    stopTimeout: c.host.stopTimeout,
    runRoot: store.paths.runtime,
    pidFile: `${store.runDir(c.id)}/monitor.pid`,
  };
  return {
    [serviceName(unit, o)]: containerUnit(
      unit,
      o,
      ptdExecutable(),
      PTD_VERSION,
      headerTime(new Date()),
    ),
  };
}
