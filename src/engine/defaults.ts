/**
 * containers.conf's defaults applied to a create request, so that every
 * front end gets them without passing anything: the request's own settings
 * win, the configuration fills what they leave open.
 *
 * pids_limit applies only where containers get cgroups (a delegated cgroup
 * v2 host): rootless Podman on a cgroup v1 host ignores it silently too
 * (its inspect shows PidsLimit 0), and a refusal would break every container.
 */
import type { limitRefusal } from "../cgroup/policy.ts";
import type { ContainersConf } from "../config/containers_conf.ts";
import type { CreateOptions } from "../container/create.ts";
import { joinsNetwork } from "../network/mode.ts";
import { DEFAULT_CAPS } from "../runtime/caps.ts";
import { parseUlimit } from "../container/limits.ts";
import { parseVolumeFlag } from "../container/mounts.ts";
import type { RootSource } from "../storage/root_source.ts";

/**
 * `req` and `root` with the configuration's defaults filled in.
 * `refusal` is the host's check of limits (cgroup/policy.ts), where the
 * container may get a cgroup; without it no limit can apply.
 */
export function withConfDefaults<T extends CreateOptions>(
  req: T,
  root: RootSource,
  conf: ContainersConf,
  refusal?: typeof limitRefusal,
): [T, RootSource] {
  const host = { ...req.host };
  // A configured `env` replaces the built-in one (TERM=xterm); the image's
  // and the request's go over it.
  const defaultEnv = conf.env.length > 0 ? conf.env : req.defaultEnv;
  // The request's --ulimit over the configured defaults, by name.
  const asked = new Set((host.ulimits ?? []).map((u) => u.name));
  const ulimits = [
    ...conf.defaultUlimits.map(parseUlimit).filter((u) => !asked.has(u.name)),
    ...(host.ulimits ?? []),
  ];
  if (ulimits.length > 0) host.ulimits = ulimits;
  host.tz ??= conf.tz || undefined;
  host.seccompProfile ??= conf.seccompProfile || undefined;
  if (host.init) host.initPath ??= conf.initPath || undefined;
  host.baseHostsFile ??= conf.baseHostsFile || undefined;
  host.logDriver ??= conf.logDriver || undefined;
  const dns = host.dns ?? { servers: [], search: [], options: [] };
  if (!joinsNetwork(host.networkMode) && host.network !== "host") {
    host.dns = {
      servers: dns.servers.length > 0 ? dns.servers : conf.dnsServers,
      search: dns.search.length > 0 ? dns.search : conf.dnsSearches,
      options: dns.options.length > 0 ? dns.options : conf.dnsOptions,
    };
  }
  // Podman's built-in pids_limit, when no file sets one.
  const pids = { ...host.resources, pidsLimit: conf.pidsLimit ?? 2048 };
  if (
    pids.pidsLimit > 0 && host.resources?.pidsLimit === undefined &&
    refusal !== undefined && !refusal({ ...host, resources: pids })
  ) host.resources = pids;
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
  // Configured volumes under the request's own, by destination.
  const own = new Set((req.mounts ?? []).map((m) => m.destination));
  const mounts = [
    ...conf.volumes.map(parseVolumeFlag).filter((m) => !own.has(m.destination)),
    ...(req.mounts ?? []),
  ];
  return [{ ...req, host, defaultEnv, mounts }, root];
}
