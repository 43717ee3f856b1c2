/**
 * Docker's container create body (Config + HostConfig) as the engine's
 * create request: the same parsers the CLI's flags go through, fed the
 * API's fields. A field of the wrong type is a 400 naming it, as is a
 * setting ptd does not have (resource limits, links, ...): refused, never
 * silently dropped.
 */
import { parseDevice } from "../container/devices.ts";
import { chooseHealthcheck } from "../container/health_config.ts";
import { parseUlimit } from "../container/limits.ts";
import { parseLogOpts } from "../container/log_driver.ts";
import { parseMountFlags } from "../container/mounts.ts";
import { parseIpc, parseUserns } from "../container/namespaces.ts";
import { parseRestart } from "../container/restart.ts";
import { type CreateRequest, networkSettings } from "../engine/create.ts";
import { parsePublish } from "../network/ports.ts";
import { invalid, notFound } from "../runtime/errors.ts";

type Obj = Record<string, unknown>;

/** Typed reads of a body's fields; a wrong type is a 400 naming the field. */
class Fields {
  constructor(readonly o: Obj, readonly where: string) {}

  private bad(key: string, want: string): never {
    throw invalid(
      `json: cannot unmarshal ${typeof this
        .o[key]} into Go struct field ${this.where}.${key} of type ${want}`,
    );
  }

  str(key: string): string | undefined {
    const v = this.o[key];
    if (v === undefined || v === null || v === "") return undefined;
    return typeof v === "string" ? v : this.bad(key, "string");
  }

  strs(key: string): string[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (typeof v === "string") return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    return this.bad(key, "[]string");
  }

  /** null (absent) apart from an empty list. */
  list(key: string): string[] | undefined {
    return this.o[key] === undefined || this.o[key] === null
      ? undefined
      : this.strs(key);
  }

  bool(key: string): boolean {
    const v = this.o[key];
    if (v === undefined || v === null) return false;
    return typeof v === "boolean" ? v : this.bad(key, "bool");
  }

  num(key: string): number | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === "number" ? v : this.bad(key, "int64");
  }

  obj(key: string): Obj {
    const v = this.o[key];
    if (v === undefined || v === null) return {};
    if (typeof v === "object" && !Array.isArray(v)) return v as Obj;
    return this.bad(key, "object");
  }

  arr(key: string): Obj[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v as Obj[];
    return this.bad(key, "array");
  }

  /** A string map (Labels, Tmpfs). */
  map(key: string): Record<string, string> {
    const m = this.obj(key);
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") this.bad(`${key}.${k}`, "string");
    }
    return m as Record<string, string>;
  }
}

/** HostConfig settings ptd does not have: refused when set. */
const UNSUPPORTED = [
  "Memory",
  "MemoryReservation",
  "MemorySwap",
  "NanoCpus",
  "CpuShares",
  "CpuPeriod",
  "CpuQuota",
  "CpuRealtimePeriod",
  "CpuRealtimeRuntime",
  "CpusetCpus",
  "CpusetMems",
  "BlkioWeight",
  "PidsLimit",
  "OomKillDisable",
  "KernelMemory",
  "VolumesFrom",
  "Links",
  "Sysctls",
  "CgroupParent",
  "DeviceRequests",
  "StorageOpt",
  "VolumeDriver",
];

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") {
    return false;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as Obj).length > 0;
  return true;
}

const MODES = ["default", "bridge", "host", "none"];

/** Whether a NetworkMode or EndpointsConfig key names a network. */
const namesNetwork = (n: string) =>
  !MODES.includes(n) && !n.startsWith("container:");

/**
 * Docker's network settings as ptd's: bridge and default are ptd's own
 * stack; named networks (NetworkMode's, then EndpointsConfig's) take their
 * endpoint's aliases and address.
 */
function networks(
  mode: string | undefined,
  endpoints: Obj,
): ReturnType<typeof networkSettings> {
  const named = [...new Set([mode ?? "", ...Object.keys(endpoints)])]
    .filter((n) => n && namesNetwork(n));
  if (named.length === 0) {
    const own = mode === undefined || mode === "default" || mode === "bridge";
    return networkSettings(own ? "private" : mode);
  }
  if (mode && !namesNetwork(mode) && mode !== "default" && mode !== "bridge") {
    throw invalid(
      `conflicting options: NetworkMode ${mode} and the networks ${
        named.join(", ")
      }`,
    );
  }
  // A name is given to the --network parser, which reads ':' and ',' as
  // options: no network's name has them.
  const bad = named.find((n) => /[:,]/.test(n));
  if (bad) throw notFound(`network ${bad} not found`);
  const settings = networkSettings(named);
  settings.networkMode.networks = settings.networkMode.networks!.map((a) => {
    const ep = new Fields(
      (endpoints[a.name] ?? {}) as Obj,
      "EndpointSettings",
    );
    if (ep.strs("Links").length > 0) {
      throw invalid("EndpointSettings.Links is not supported by ptd");
    }
    const ipam = new Fields(ep.obj("IPAMConfig"), "EndpointIPAMConfig");
    if (ipam.str("IPv6Address")) {
      throw invalid("ptd's networks have no IPv6 addresses yet");
    }
    const ip = ipam.str("IPv4Address"), mac = ep.str("MacAddress");
    return {
      ...a,
      aliases: ep.strs("Aliases"),
      ...(ip ? { ip } : {}),
      ...(mac ? { mac } : {}),
    };
  });
  return settings;
}

/** `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` as -p values. */
function publishSpecs(bindings: Obj): string[] {
  return Object.entries(bindings).flatMap(([port, list]) =>
    (Array.isArray(list) && list.length > 0 ? list : [{}]).map((b: Obj) => {
      const ip = typeof b.HostIp === "string" ? b.HostIp : "";
      const host = typeof b.HostPort === "string" ? b.HostPort : "";
      return ip ? `${ip}:${host}:${port}` : host ? `${host}:${port}` : port;
    })
  );
}

/** A HostConfig.Mounts entry as a --mount value. */
function mountSpec(m: Obj): string {
  const f = new Fields(m, "HostConfig.Mounts");
  const type = f.str("Type") ?? "volume";
  const parts = [`type=${type}`, `dst=${f.str("Target") ?? ""}`];
  const src = f.str("Source");
  if (src) parts.push(`src=${src}`);
  if (f.bool("ReadOnly")) parts.push("ro");
  const vol = new Fields(f.obj("VolumeOptions"), "Mounts.VolumeOptions");
  if (vol.bool("NoCopy")) parts.push("volume-nocopy");
  const tmp = new Fields(f.obj("TmpfsOptions"), "Mounts.TmpfsOptions");
  const size = tmp.num("SizeBytes"), mode = tmp.num("Mode");
  if (size) parts.push(`tmpfs-size=${size}`);
  if (mode) parts.push(`tmpfs-mode=${mode.toString(8)}`);
  return parts.join(",");
}

/** LogConfig: json-file (k8s-file underneath), k8s-file or none; max-size. */
function logSettings(log: Fields): { logDriver?: string; logMaxSize?: number } {
  const type = log.str("Type");
  if (type && !["json-file", "k8s-file", "none"].includes(type)) {
    throw invalid(`HostConfig.LogConfig.Type ${type} is not supported`);
  }
  const opts = Object.entries(log.map("Config")).map(([k, v]) => `${k}=${v}`);
  return {
    logDriver: type === "json-file" ? undefined : type,
    ...parseLogOpts(opts),
  };
}

/**
 * Config.Healthcheck as the container's check: Docker's zero durations
 * mean its defaults, as the image's HEALTHCHECK's do; none: the image's.
 */
function healthcheckOf(cfg: Fields) {
  if (cfg.o.Healthcheck === undefined || cfg.o.Healthcheck === null) {
    return undefined;
  }
  const h = new Fields(cfg.obj("Healthcheck"), "Config.Healthcheck");
  const test = h.strs("Test");
  if (test.length === 0) return undefined;
  return chooseHealthcheck(undefined, {
    Test: test,
    Interval: h.num("Interval"),
    Timeout: h.num("Timeout"),
    StartPeriod: h.num("StartPeriod"),
    Retries: h.num("Retries") || 3,
  });
}

/** The engine's create request for a Docker create body. */
export function createRequestOf(body: Obj, name?: string): CreateRequest {
  const cfg = new Fields(body, "Config");
  const image = cfg.str("Image");
  if (!image) {
    throw invalid("config cannot be empty in order to create a container");
  }
  const hc = new Fields(cfg.obj("HostConfig"), "HostConfig");
  for (const key of UNSUPPORTED) {
    if (isSet(hc.o[key]) && !(key === "PidsLimit" && Number(hc.o[key]) < 0)) {
      throw invalid(`HostConfig.${key} is not supported by ptd`);
    }
  }
  const restart = new Fields(hc.obj("RestartPolicy"), "RestartPolicy");
  const restartName = restart.str("Name") ?? "no";
  const retries = restart.num("MaximumRetryCount") ?? 0;
  const tmpfs = Object.entries(hc.map("Tmpfs")).map(([dst, opts]) =>
    opts ? `${dst}:${opts}` : dst
  );
  const userns = hc.str("UsernsMode");
  const securityOpt = hc.strs("SecurityOpt");
  for (const o of securityOpt) {
    if (!/^no-new-privileges([:=]true)?$/.test(o)) {
      throw invalid(`HostConfig.SecurityOpt ${o} is not supported`);
    }
  }
  const entrypoint = cfg.list("Entrypoint");
  return {
    image,
    pull: "never",
    name,
    command: cfg.strs("Cmd"),
    entrypoint: entrypoint?.length === 1 && entrypoint[0] === ""
      ? []
      : entrypoint,
    env: cfg.strs("Env"),
    workdir: cfg.str("WorkingDir"),
    user: cfg.str("User"),
    hostname: cfg.str("Hostname"),
    labels: cfg.map("Labels"),
    mounts: parseMountFlags({
      volume: hc.strs("Binds"),
      mount: hc.arr("Mounts").map(mountSpec),
      tmpfs,
    }),
    readOnlyTmpfs: true,
    publishAll: hc.bool("PublishAllPorts"),
    host: {
      autoRemove: hc.bool("AutoRemove"),
      interactive: cfg.bool("OpenStdin"),
      tty: cfg.bool("Tty"),
      capAdd: hc.strs("CapAdd"),
      capDrop: hc.strs("CapDrop"),
      privileged: hc.bool("Privileged"),
      noNewPrivileges: securityOpt.length > 0,
      readOnly: hc.bool("ReadonlyRootfs"),
      ...networks(
        hc.str("NetworkMode"),
        new Fields(cfg.obj("NetworkingConfig"), "NetworkingConfig").obj(
          "EndpointsConfig",
        ),
      ),
      ipc: hc.str("IpcMode") === undefined
        ? undefined
        : parseIpc(hc.str("IpcMode")!),
      userns: userns === undefined ? undefined : parseUserns(userns),
      ulimits: hc.arr("Ulimits").length > 0
        ? hc.arr("Ulimits").map((u) =>
          parseUlimit(`${u.Name}=${u.Soft}:${u.Hard}`)
        )
        : undefined,
      shmSize: hc.num("ShmSize") || undefined,
      devices: hc.arr("Devices").length > 0
        ? hc.arr("Devices").flatMap((d) =>
          parseDevice(
            `${d.PathOnHost}:${d.PathInContainer || d.PathOnHost}:${
              d.CgroupPermissions || "rwm"
            }`,
          )
        )
        : undefined,
      ports: publishSpecs(hc.obj("PortBindings")).flatMap(parsePublish),
      dns: {
        servers: hc.strs("Dns"),
        search: hc.strs("DnsSearch"),
        options: hc.strs("DnsOptions"),
      },
      addHosts: hc.strs("ExtraHosts"),
      groupAdd: hc.strs("GroupAdd"),
      restartPolicy: parseRestart(
        restartName === "on-failure" && retries > 0
          ? `on-failure:${retries}`
          : restartName,
      ),
      init: hc.bool("Init"),
      stopSignal: cfg.str("StopSignal") ?? "SIGTERM",
      stopTimeout: cfg.num("StopTimeout") ?? 10,
      healthcheck: healthcheckOf(cfg),
      ...logSettings(new Fields(hc.obj("LogConfig"), "LogConfig")),
    },
  };
}
