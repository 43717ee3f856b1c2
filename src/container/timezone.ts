/**
 * --tz: the zone file the container's /etc/localtime shows, as Podman
 * finds it.
 */
import { invalid } from "../runtime/errors.ts";

/** The host file for a --tz value: a zone name, or "local" for the host's. */
export function zoneFile(tz: string): string {
  const path = tz === "local" ? "/etc/localtime" : `/usr/share/zoneinfo/${tz}`;
  try {
    return Deno.realPathSync(path);
  } catch {
    throw invalid(
      `running container create option: stat ${path}: no such file or directory`,
    );
  }
}
