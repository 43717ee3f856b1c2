/**
 * containers.conf's defaults applied to a create request, so that every
 * front end gets them without passing anything: the request's own settings
 * win, the configuration fills what they leave open. Keys ptd has no
 * setting for yet (default_ulimits, pids_limit, tz, volumes, init_path,
 * base_hosts_file, log_driver) are read and kept in ContainersConf for the
 * options that will take them.
 */
import type { ContainersConf } from "../config/containers_conf.ts";
import type { CreateOptions } from "../container/create.ts";
import { joinsNetwork } from "../network/mode.ts";
import { DEFAULT_CAPS } from "../runtime/caps.ts";
import type { RootSource } from "../storage/root_source.ts";

const key = (e: string) => e.split("=", 1)[0];

/** `req` and `root` with the configuration's defaults filled in. */
export function withConfDefaults<T extends CreateOptions>(
  req: T,
  root: RootSource,
  conf: ContainersConf,
): [T, RootSource] {
  const host = { ...req.host };
  // Podman's order: containers.conf env under the image's, under --env.
  const set = new Set([...root.env, ...req.env].map(key));
  const env = [...conf.env.filter((e) => !set.has(key(e))), ...root.env];
  const dns = host.dns ?? { servers: [], search: [], options: [] };
  if (!joinsNetwork(host.networkMode) && host.network !== "host") {
    host.dns = {
      servers: dns.servers.length > 0 ? dns.servers : conf.dnsServers,
      search: dns.search.length > 0 ? dns.search : conf.dnsSearches,
      options: dns.options.length > 0 ? dns.options : conf.dnsOptions,
    };
  }
  if (host.logMaxSize === undefined && (conf.logSizeMax ?? -1) > 0) {
    host.logMaxSize = conf.logSizeMax;
  }
  const caps = conf.defaultCapabilities;
  if (caps) {
    // The configured set as changes to the built-in one; the request's own
    // drops still win over the configuration's additions.
    const drops = host.capDrop.map((c) => c.toUpperCase());
    host.capDrop = [
      ...DEFAULT_CAPS.filter((c) => !caps.includes(c)),
      ...host.capDrop,
    ];
    host.capAdd = [
      ...caps.filter((c) =>
        !DEFAULT_CAPS.includes(c) && !drops.includes(c) &&
        !drops.includes(c.slice(4))
      ),
      ...host.capAdd,
    ];
  }
  return [{ ...req, host }, { ...root, env }];
}
