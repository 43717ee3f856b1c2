/**
 * The engine's whole-system operations: version, info, disk usage, system
 * prune and reset, `exists`, and inspect by object type. They only read the
 * stores and the host, or call the other areas' operations in turn.
 */
import { chooseCgroupManager } from "../cgroup/policy.ts";
import { isActive } from "../container/liveness.ts";
import { loadRegistriesConf } from "../image/reference.ts";
import { ImageStore } from "../image/store.ts";
import { DEFAULT_CAPS } from "../runtime/caps.ts";
import { isKind } from "../runtime/errors.ts";
import { idMapsFor, type IdRange } from "../runtime/idmap.ts";
import { storeDriver } from "../storage/driver.ts";
import { removeTrees } from "../storage/remove.ts";
import { VolumeStore } from "../volume/store.ts";
import type { Engine } from "./engine.ts";
import { pruneImages } from "./images.ts";
import { pruneNetworks } from "./networks.ts";
import { prunePods } from "./pods.ts";
import { pruneContainers, removeContainer } from "./lifecycle.ts";
import { containerStore, containersWithState, writtenSize } from "./listing.ts";
import { withDependents } from "./selection.ts";
import { pruneVolumesUnused } from "./volumes.ts";
import { DEFAULT_SECCOMP_PROFILE } from "../security/seccomp.ts";

/** ptd's own version. */
export const PTD_VERSION = "0.1.0";
/** The Podman release whose command line ptd follows. */
export const PODMAN_API_VERSION = "4.3.1";

/** `version`'s document, in Podman's field names. */
export interface VersionDoc {
  APIVersion: string;
  Version: string;
  /** Podman's Go version; ptd's runtime is Deno. */
  GoVersion: string;
  GitCommit: string;
  BuiltTime: string;
  Built: number;
  OsArch: string;
  Os: string;
}

/** Go's names of the machine: what Podman prints in OS/Arch. */
function goArch(): string {
  const a = Deno.build.arch as string;
  return a === "x86_64" ? "amd64" : a === "aarch64" ? "arm64" : a;
}

/** ptd's version, as Podman's `version` reports its client. */
export function versionInfo(): VersionDoc {
  return {
    APIVersion: PODMAN_API_VERSION,
    Version: PTD_VERSION,
    GoVersion: `deno${Deno.version.deno}`,
    GitCommit: "",
    // Like a Podman built without a build date: the epoch, as Go prints it.
    BuiltTime: "Thu Jan  1 00:00:00 1970",
    Built: 0,
    OsArch: `${Deno.build.os}/${goArch()}`,
    Os: Deno.build.os,
  };
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readText("/etc/os-release").split("\n")) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

function uptime(): string {
  const secs = Number(readText("/proc/uptime").split(" ")[0]) || 0;
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60);
  return `${h}h ${m}m ${(secs % 60).toFixed(2)}s`;
}

function which(cmd: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  return "";
}

const idMapping = (r: IdRange) => ({
  container_id: r.container,
  host_id: r.host,
  size: r.size,
});

/** The registries part of `info`: Podman's keys, from registries.conf. */
function registriesInfo(): Record<string, unknown> {
  const conf = loadRegistriesConf();
  const out: Record<string, unknown> = {};
  for (const r of conf.registries) {
    out[r.prefix] = {
      Prefix: r.prefix,
      Location: r.location,
      Insecure: r.insecure,
      Mirrors: r.mirrors.map((m) => ({
        Location: m.location,
        Insecure: m.insecure,
      })),
      Blocked: r.blocked,
    };
  }
  out.search = conf.search;
  return out;
}

/** `info`: the host, the store and the registries, in Podman's structure. */
export async function systemInfo(e: Engine): Promise<Record<string, unknown>> {
  const uid = Deno.uid() ?? 0, gid = Deno.gid() ?? 0;
  const maps = idMapsFor(uid, gid);
  const os = osRelease();
  const mem = Deno.systemMemoryInfo();
  const states = (await containersWithState(e)).map((x) => x.state);
  const running = states.filter(isActive).length;
  const slirp = which("slirp4netns");
  return {
    host: {
      arch: goArch(),
      cgroupManager: chooseCgroupManager(),
      cgroupVersion: safeExists("/sys/fs/cgroup/cgroup.controllers")
        ? "v2"
        : "v1",
      cpus: navigator.hardwareConcurrency,
      distribution: {
        distribution: os.ID ?? "",
        version: os.VERSION_ID ?? "",
        codename: os.VERSION_CODENAME ?? "",
      },
      eventLogger: "none",
      hostname: Deno.hostname(),
      idMappings: {
        gidmap: e.paths.rootless ? maps.gid.map(idMapping) : null,
        uidmap: e.paths.rootless ? maps.uid.map(idMapping) : null,
      },
      kernel: Deno.osRelease(),
      logDriver: "k8s-file",
      memFree: mem.available,
      memTotal: mem.total,
      ociRuntime: {
        name: "ptd",
        path: Deno.execPath(),
        version: `ptd version ${PTD_VERSION}`,
      },
      os: Deno.build.os,
      serviceIsRemote: false,
      security: {
        apparmorEnabled: false,
        capabilities: DEFAULT_CAPS.join(","),
        rootless: e.paths.rootless,
        seccompEnabled: true,
        seccompProfilePath: DEFAULT_SECCOMP_PROFILE,
        selinuxEnabled: false,
      },
      slirp4netns: { executable: slirp },
      swapFree: mem.swapFree,
      swapTotal: mem.swapTotal,
      uptime: uptime(),
    },
    store: {
      configFile: "",
      containerStore: {
        number: states.length,
        paused: 0,
        running,
        stopped: states.length - running,
      },
      graphDriverName: storeDriver(e.paths.data),
      graphOptions: {},
      graphRoot: e.paths.data,
      graphStatus: {},
      imageCopyTmpDir: Deno.env.get("TMPDIR") || "/var/tmp",
      imageStore: { number: e.store(ImageStore).list().length },
      runRoot: e.paths.runtime,
      volumePath: `${e.paths.data}/volumes`,
    },
    registries: registriesInfo(),
    plugins: {
      volume: ["local"],
      network: ["slirp4netns", "pasta"],
      log: ["k8s-file", "json-file", "none", "passthrough"],
      authorization: null,
    },
    version: versionInfo(),
  };
}

function safeExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes of the files under `path` that this user can see. A container's
 * upper dir holds files of subordinate ids it may not read: those count
 * as nothing rather than failing the whole report.
 */
function treeSize(path: string): number {
  let total = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(path)];
  } catch {
    return 0;
  }
  for (const ent of entries) {
    const p = `${path}/${ent.name}`;
    if (ent.isDirectory) total += treeSize(p);
    else {
      try {
        total += Deno.lstatSync(p).size;
      } catch { /* gone meanwhile */ }
    }
  }
  return total;
}

/** One kind of object in `system df`. */
export interface UsageSummary {
  Type: "Images" | "Containers" | "Local Volumes";
  Total: number;
  Active: number;
  Size: number;
  Reclaimable: number;
}

/** What `system df` reports: a summary per kind and each object's usage. */
export interface DiskUsage {
  summary: UsageSummary[];
  images: {
    id: string;
    names: string[];
    created: string;
    size: number;
    containers: number;
  }[];
  containers: {
    id: string;
    name: string;
    image: string;
    /** "" for a --rootfs container. */
    imageId: string;
    command: string[];
    size: number;
    created: string;
    status: string;
    volumes: number;
  }[];
  volumes: { name: string; links: number; size: number }[];
}

function summary(
  type: UsageSummary["Type"],
  items: { size: number; active: boolean }[],
): UsageSummary {
  const sum = (xs: typeof items) => xs.reduce((n, x) => n + x.size, 0);
  return {
    Type: type,
    Total: items.length,
    Active: items.filter((x) => x.active).length,
    Size: sum(items),
    Reclaimable: sum(items.filter((x) => !x.active)),
  };
}

/** `system df`: the space images, containers and volumes take. */
export async function diskUsage(e: Engine): Promise<DiskUsage> {
  const cs = await containersWithState(e);
  const volumeNames = (m: { type: string; source?: string }[]) =>
    m.filter((x) => x.type === "volume").map((x) => x.source ?? "");
  const images = e.store(ImageStore).list().map((img) => ({
    id: img.id,
    names: img.names,
    created: img.config.created ?? img.stored,
    size: img.size,
    containers: cs.filter(({ c }) => c.imageId === img.id).length,
  }));
  const containers = await Promise.all(cs.map(async ({ c, state }) => ({
    id: c.id,
    name: c.name,
    image: c.image,
    imageId: c.imageId,
    command: [...c.entrypoint, ...c.cmd],
    size: await writtenSize(e, c),
    created: c.created,
    status: state.status,
    volumes: volumeNames(c.mounts ?? []).length,
  })));
  const volumes = e.store(VolumeStore).list().map((v) => ({
    name: v.name,
    links: cs.filter(({ c }) => volumeNames(c.mounts ?? []).includes(v.name))
      .length,
    size: treeSize(v.mountpoint),
  }));
  return {
    summary: [
      summary(
        "Images",
        images.map((i) => ({ size: i.size, active: i.containers > 0 })),
      ),
      summary(
        "Containers",
        containers.map((c) => ({
          size: c.size,
          active: c.status === "running",
        })),
      ),
      summary(
        "Local Volumes",
        volumes.map((v) => ({ size: v.size, active: v.links > 0 })),
      ),
    ],
    images,
    containers,
    volumes,
  };
}

async function usedBytes(e: Engine): Promise<number> {
  return (await diskUsage(e)).summary.reduce((n, s) => n + s.Size, 0);
}

/** What `system prune` removed. */
export interface SystemPruneReport {
  pods: string[];
  containers: string[];
  networks: string[];
  images: string[];
  volumes: string[];
  /** Containers that could not go (a running one's network depends on them). */
  errors: unknown[];
  /** Bytes freed, as `system df` counts them. */
  reclaimed: number;
}

/**
 * `system prune`: pods with nothing running, stopped containers, networks
 * no container uses, then dangling images (with `all`, every image no
 * container uses), then with `volumes` unused volumes.
 */
export async function pruneSystem(
  e: Engine,
  opts: { all?: boolean; volumes?: boolean; filter?: string[] },
): Promise<SystemPruneReport> {
  const before = await usedBytes(e);
  // --filter (label=, until=) narrows each kind, as Podman's does.
  const filters = opts.filter ?? [];
  const pods = await prunePods(e);
  const containers = await pruneContainers(e, filters);
  const networks = pruneNetworks(e, []);
  const images = await pruneImages(e, !!opts.all, filters);
  const volumes = opts.volumes ? await pruneVolumesUnused(e, filters) : [];
  return {
    pods: pods.removed,
    containers: containers.removed,
    networks: networks.removed,
    images,
    volumes,
    errors: [pods, containers, networks].flatMap((r) =>
      r.errors.map((x) => x.error)
    ),
    reclaimed: Math.max(0, before - await usedBytes(e)),
  };
}

/**
 * `system reset`: every container (running ones killed, dependents before
 * what they depend on), then everything ptd stored for this user: the
 * store and its runtime directory.
 */
export async function resetStore(e: Engine): Promise<void> {
  const all = containerStore(e).list().map((c) => ({ input: c.id, c }));
  for (const { c } of withDependents(e, all)) {
    try {
      await removeContainer(e, c.id, {
        force: true,
        volumes: true,
        infra: "pod",
      });
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
    }
  }
  await removeTrees([e.paths.data, e.paths.runtime]);
}
