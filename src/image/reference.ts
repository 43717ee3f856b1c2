/**
 * Image references by Docker's rules (`busybox` is
 * docker.io/library/busybox:latest; a first component with a dot, a colon or
 * "localhost" is a registry host), and where to fetch them from as
 * registries.conf says: search registries for short names, per-registry
 * `insecure` (plain http), `blocked`, mirrors and prefix rewrites.
 */
import { invalid } from "../runtime/errors.ts";
import { parse as parseToml } from "smol-toml";

/** Docker Hub's canonical name. */
export const DOCKER_HUB = "docker.io";

/** A parsed, fully qualified image reference. */
export interface Reference {
  /** Registry host, with port if any: "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** Repository path inside the registry: "library/busybox". */
  repository: string;
  /** Tag; "latest" when neither tag nor digest was given. */
  tag?: string;
  /** "sha256:<hex>" when the reference pins a manifest digest. */
  digest?: string;
}

/** A reference as the user typed it, before short-name resolution. */
export interface ParsedName {
  /** undefined for a short name ("busybox", "user/app"). */
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** Parses `[host[:port]/]path[:tag][@sha256:hex]` without resolving short names. */
export function parseName(input: string): ParsedName {
  const bad = (why: string) =>
    new Error(`invalid reference format "${input}": ${why}`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("bad digest");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad("bad tag");
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      if (!HOST.test(first)) throw bad("bad registry host");
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (rest.length === 0 || !rest.split("/").every((c) => COMPONENT.test(c))) {
    throw bad("repository name must be lowercase");
  }
  if (rest.length > 255) throw bad("repository name too long");
  return { registry, repository: rest, tag, digest };
}

/** Qualifies a parsed name with `registry` (Docker Hub adds "library/"). */
export function qualify(name: ParsedName, registry: string): Reference {
  const reg = registry === "index.docker.io" ? DOCKER_HUB : registry;
  const repository = reg === DOCKER_HUB && !name.repository.includes("/")
    ? `library/${name.repository}`
    : name.repository;
  const tag = name.tag ?? (name.digest ? undefined : "latest");
  return { registry: reg, repository, tag, digest: name.digest };
}

/**
 * A name for a local image (tag, import, commit): a short name lives under
 * localhost/, as Podman has it. Refuses a digest.
 */
export function localName(name: string): string {
  const n = parseName(name);
  if (n.digest) throw invalid(`${name}: cannot tag with a digest`);
  return formatReference(qualify(n, n.registry ?? "localhost"));
}

/** Parses a reference whose registry is explicit, or Docker Hub's. */
export function parseReference(input: string): Reference {
  const n = parseName(input);
  return qualify(n, n.registry ?? DOCKER_HUB);
}

/** "registry/repository" — the name without tag or digest. */
export function repoName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

/** The canonical string: `registry/repo:tag`, `registry/repo@digest` or both. */
export function formatReference(r: Reference): string {
  return repoName(r) + (r.tag ? `:${r.tag}` : "") +
    (r.digest ? `@${r.digest}` : "");
}

/** One place to fetch from: a registry's own location or one of its mirrors. */
export interface Endpoint {
  /** Host[:port] to connect to. */
  host: string;
  /** Repository path at that host (prefix rewrites applied). */
  repository: string;
  /** Plain http (or TLS without verification) allowed. */
  insecure: boolean;
  /** True for a mirror: a failure there falls through to the next. */
  mirror: boolean;
}

/** One `[[registry]]` table of registries.conf. */
export interface RegistryConfig {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: { location: string; insecure: boolean }[];
}

/** What ptd reads from registries.conf. */
export interface RegistriesConf {
  /** unqualified-search-registries; Docker Hub when the file names none. */
  search: string[];
  registries: RegistryConfig[];
  /** [aliases]: short name -> fully qualified name. */
  aliases: Record<string, string>;
}

type Table = Record<string, unknown>;

function str(v: unknown, what: string): string {
  if (typeof v !== "string") {
    throw invalid(`registries.conf: ${what} must be a string`);
  }
  return v;
}

/** Parses registries.conf (v2 format) text. */
export function parseRegistriesConf(text: string): RegistriesConf {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw invalid(`registries.conf: ${msg}`);
  }
  const search = ((doc["unqualified-search-registries"] ?? []) as unknown[])
    .map((s) => str(s, "unqualified-search-registries entries"));
  const registries = ((doc.registry ?? []) as Table[]).map((t) => {
    const location = str(t.location ?? t.prefix, "registry location");
    return {
      prefix: str(t.prefix ?? location, "registry prefix"),
      location,
      insecure: t.insecure === true,
      blocked: t.blocked === true,
      mirrors: ((t.mirror ?? []) as Table[]).map((m) => ({
        location: str(m.location, "mirror location"),
        insecure: m.insecure === true,
      })),
    };
  });
  const aliases: Record<string, string> = {};
  for (const [k, v] of Object.entries((doc.aliases ?? {}) as Table)) {
    aliases[k] = str(v, `alias ${k}`);
  }
  return { search, registries, aliases };
}

function configHome(): string {
  return Deno.env.get("XDG_CONFIG_HOME") ||
    `${Deno.env.get("HOME") ?? "/"}/.config`;
}

/**
 * Loads registries.conf the way Podman picks it: $CONTAINERS_REGISTRIES_CONF,
 * else the user's file, else the system's; none at all means Docker Hub only.
 */
export function loadRegistriesConf(): RegistriesConf {
  const forced = Deno.env.get("CONTAINERS_REGISTRIES_CONF");
  const candidates = forced ? [forced] : [
    `${configHome()}/containers/registries.conf`,
    "/etc/containers/registries.conf",
  ];
  for (const path of candidates) {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound && !forced) continue;
      throw new Error(`reading ${path}: ${(e as Error).message}`);
    }
    const conf = parseRegistriesConf(text);
    if (conf.search.length === 0) conf.search = [DOCKER_HUB];
    return conf;
  }
  return { search: [DOCKER_HUB], registries: [], aliases: {} };
}

/** Candidate references for what the user typed, in the order to try. */
export function resolveName(input: string, conf: RegistriesConf): Reference[] {
  const n = parseName(input);
  if (n.registry) return [qualify(n, n.registry)];
  const alias = conf.aliases[n.repository];
  if (alias) {
    const a = parseName(alias);
    return [
      qualify({ ...a, tag: n.tag, digest: n.digest }, a.registry ?? DOCKER_HUB),
    ];
  }
  return conf.search.map((reg) => qualify(n, reg));
}

function prefixMatches(prefix: string, name: string): boolean {
  return name === prefix || name.startsWith(`${prefix}/`) ||
    name.startsWith(`${prefix}:`) || name.startsWith(`${prefix}@`);
}

/** The [[registry]] table that governs `ref` (longest prefix), if any. */
export function registryFor(
  ref: Reference,
  conf: RegistriesConf,
): RegistryConfig | undefined {
  const name = repoName(ref);
  let best: RegistryConfig | undefined;
  for (const r of conf.registries) {
    if (!prefixMatches(r.prefix, name)) continue;
    if (!best || r.prefix.length > best.prefix.length) best = r;
  }
  return best;
}

function endpointAt(
  location: string,
  rest: string,
  insecure: boolean,
  mirror: boolean,
): Endpoint {
  const full = location + rest;
  const slash = full.indexOf("/");
  return {
    host: full.slice(0, slash),
    repository: full.slice(slash + 1),
    insecure,
    mirror,
  };
}

/**
 * Where to fetch `ref` from, in order: mirrors (pull only), then the
 * registry itself. A blocked registry is refused.
 */
export function endpoints(
  ref: Reference,
  conf: RegistriesConf,
  forPush = false,
): Endpoint[] {
  const r = registryFor(ref, conf);
  const name = repoName(ref);
  if (!r) return [endpointAt(ref.registry, `/${ref.repository}`, false, false)];
  if (r.blocked) {
    throw invalid(`registry ${r.prefix} is blocked in registries.conf`);
  }
  const rest = name.slice(r.prefix.length);
  const own = endpointAt(r.location, rest, r.insecure, false);
  if (forPush) return [own];
  return [
    ...r.mirrors.map((m) => endpointAt(m.location, rest, m.insecure, true)),
    own,
  ];
}

/** Docker Hub's API lives at registry-1.docker.io, not docker.io. */
export function apiHost(host: string): string {
  return host === DOCKER_HUB ? "registry-1.docker.io" : host;
}

/**
 * CA certificates for `host` from certs.d directories, as Podman reads them:
 * every `*.crt` in `DIR/HOST[:PORT]/`. `certDir` replaces the default list.
 */
export function caCertsFor(host: string, certDir?: string): string[] {
  const dirs = certDir ? [certDir] : [
    `${configHome()}/containers/certs.d/${host}`,
    `/etc/containers/certs.d/${host}`,
    `/etc/docker/certs.d/${host}`,
  ];
  const out: string[] = [];
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.endsWith(".crt")) {
        out.push(Deno.readTextFileSync(`${dir}/${e.name}`));
      }
    }
    if (out.length > 0) break;
  }
  return out;
}
