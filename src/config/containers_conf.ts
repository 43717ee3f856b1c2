/**
 * containers.conf, read where Podman reads it, for the keys of its
 * [containers] table that ptd has. Files later in the order override the
 * keys they set: /usr/share/containers/containers.conf, then
 * /etc/containers/containers.conf, then (rootless) the user's
 * $XDG_CONFIG_HOME/containers/containers.conf, each followed by the
 * *.conf files of its containers.conf.d directory in name order.
 * $CONTAINERS_CONF names the one file to read instead of all of them.
 */
import { parse as parseToml } from "smol-toml";
import { invalid } from "../runtime/errors.ts";
import { containersConfFiles } from "./conf_files.ts";

export { containersConfFiles };

/** The defaults containers.conf gives a new container. */
export interface ContainersConf {
  /** KEY=VALUE entries under the image's own. */
  env: string[];
  dnsServers: string[];
  dnsSearches: string[];
  dnsOptions: string[];
  baseHostsFile?: string;
  /** The capability set instead of the built-in default, CAP_ names. */
  defaultCapabilities?: string[];
  /** "nofile=1024:2048" entries. */
  defaultUlimits: string[];
  logDriver?: string;
  /** Bytes; negative (the default -1) is unbounded. */
  logSizeMax?: number;
  pidsLimit?: number;
  initPath?: string;
  /** The seccomp profile file of every container (or "unconfined"). */
  seccompProfile?: string;
  tz?: string;
  /** -v entries every container gets. */
  volumes: string[];
  /** [engine] events_logger: file, journald or none. */
  eventsLogger?: string;
  /** [engine] events_logfile_max_size, in bytes. */
  eventsMaxSize?: number;
}

type Table = Record<string, unknown>;

const LISTS = {
  env: "env",
  dnsServers: "dns_servers",
  dnsSearches: "dns_searches",
  dnsOptions: "dns_options",
  defaultUlimits: "default_ulimits",
  volumes: "volumes",
} as const;

const STRINGS = {
  baseHostsFile: "base_hosts_file",
  logDriver: "log_driver",
  initPath: "init_path",
  seccompProfile: "seccomp_profile",
  tz: "tz",
} as const;

const NUMBERS = {
  logSizeMax: "log_size_max",
  pidsLimit: "pids_limit",
} as const;

function strings(v: unknown, key: string, file: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw invalid(`${file}: ${key} must be a list of strings`);
  }
  return v as string[];
}

/** Applies the [containers] table of one file's text onto `conf`. */
export function mergeContainersConf(
  conf: ContainersConf,
  text: string,
  file = "containers.conf",
): ContainersConf {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw invalid(`${file}: ${msg}`);
  }
  const t = (doc.containers ?? {}) as Table;
  const out: ContainersConf = { ...conf };
  for (const [field, key] of Object.entries(LISTS)) {
    if (key in t) out[field as keyof typeof LISTS] = strings(t[key], key, file);
  }
  for (const [field, key] of Object.entries(STRINGS)) {
    if (!(key in t)) continue;
    if (typeof t[key] !== "string") {
      throw invalid(`${file}: ${key} must be a string`);
    }
    out[field as keyof typeof STRINGS] = t[key] as string;
  }
  for (const [field, key] of Object.entries(NUMBERS)) {
    if (!(key in t)) continue;
    const n = t[key];
    if (typeof n !== "number" && typeof n !== "bigint") {
      throw invalid(`${file}: ${key} must be a number`);
    }
    out[field as keyof typeof NUMBERS] = Number(n);
  }
  if ("default_capabilities" in t) {
    out.defaultCapabilities = strings(
      t.default_capabilities,
      "default_capabilities",
      file,
    ).map((c) =>
      c.toUpperCase().startsWith("CAP_")
        ? c.toUpperCase()
        : `CAP_${c.toUpperCase()}`
    );
  }
  Object.assign(out, engineEvents((doc.engine ?? {}) as Table, file));
  return out;
}

/** The events keys of the [engine] table: a size is bytes or "1m"-style. */
function engineEvents(t: Table, file: string): Partial<ContainersConf> {
  const out: Partial<ContainersConf> = {};
  if ("events_logger" in t) {
    if (typeof t.events_logger !== "string") {
      throw invalid(`${file}: events_logger must be a string`);
    }
    out.eventsLogger = t.events_logger;
  }
  if ("events_logfile_max_size" in t) {
    const v = String(t.events_logfile_max_size);
    const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(v);
    if (!m) throw invalid(`${file}: events_logfile_max_size: bad size ${v}`);
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
    out.eventsMaxSize = Number(m[1]) *
      unit[m[2].toLowerCase() as keyof typeof unit];
  }
  return out;
}

/** An empty configuration: ptd's built-in defaults hold. */
export function emptyContainersConf(): ContainersConf {
  return {
    env: [],
    dnsServers: [],
    dnsSearches: [],
    dnsOptions: [],
    defaultUlimits: [],
    volumes: [],
  };
}

/**
 * containers.conf as the files say; a missing file is skipped, except the
 * one $CONTAINERS_CONF names, which must be there.
 */
export function loadContainersConf(
  files: string[] = containersConfFiles(),
): ContainersConf {
  const forced = Deno.env.get("CONTAINERS_CONF");
  let conf = emptyContainersConf();
  for (const file of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound && file !== forced) continue;
      throw invalid(`reading ${file}: ${(e as Error).message}`);
    }
    conf = mergeContainersConf(conf, text, file);
  }
  return conf;
}
