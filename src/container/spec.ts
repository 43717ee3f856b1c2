/**
 * From a stored container to the runtime spec init reads, plus the small
 * files ptd bind-mounts over /etc (hostname, hosts, resolv.conf).
 */
import {
  hostAddress,
  hostsFile,
  resolvConf,
  SLIRP_IP,
} from "../network/etc.ts";
import type { NetworkMode } from "../network/mode.ts";
import { privateNetwork } from "../network/mode.ts";
import { resolveCaps } from "../runtime/caps.ts";
import { DEVICES, type MountSpec, type RuntimeSpec } from "../runtime/spec.ts";
import { ensureDir } from "../storage/paths.ts";
import { type VolumeRecord, VolumeStore } from "../volume/store.ts";
import { requireTool } from "../runtime/tools.ts";
import { invalid, PtdError } from "../runtime/errors.ts";
import { commandOf, type ContainerConfig, hostnameOf } from "./config.ts";
import { networkJoin, networkTarget } from "./network.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";
import { parseTmpfsFlag } from "./mounts.ts";
import { DEFAULT_SHM_SIZE, RLIMITS } from "./limits.ts";
import { ipcTarget, usernsMaps } from "./namespaces.ts";
import { zoneFile } from "./timezone.ts";
import { readImageFile } from "./image_file.ts";
import { userMaps } from "../runtime/create.ts";
import {
  privilegedDevices,
  storedSeccomp,
  userCapabilities,
} from "./confine.ts";
import { defaultCgroupns } from "../cgroup/host.ts";

/** A file error in Go's words, as Podman's messages quote them. */
function errnoText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (e as Error).message;
}

function hostFile(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * The text whose entries start the container's /etc/hosts: containers.conf's
 * base_hosts_file, none for "none", the image's own for "image", the
 * host's /etc/hosts by default. A configured file that cannot be read
 * fails the start, as in Podman.
 */
function baseHosts(c: ContainerConfig): string {
  const file = c.host.baseHostsFile;
  if (file === "none") return "";
  if (!file) return hostFile("/etc/hosts");
  const unreadable = (path: string, e: unknown) =>
    new PtdError(
      "command-not-found",
      `creating hosts file for container ${c.id}: failed to create new ` +
        `hosts file: open ${path}: ${errnoText(e)}`,
    );
  if (file === "image") {
    const text = readImageFile(c.layers, "/etc/hosts");
    if (text === undefined) {
      throw unreadable(`${c.layers[0]}/etc/hosts`, new Deno.errors.NotFound());
    }
    return text;
  }
  try {
    return Deno.readTextFileSync(file);
  } catch (e) {
    throw unreadable(file, e);
  }
}

/** The container's own address, as its /etc/hosts names it. */
function ownAddress(mode: NetworkMode, hostIp?: string): string | undefined {
  if (mode.kind === "host") return undefined;
  if (mode.kind === "slirp4netns") return SLIRP_IP;
  if (mode.kind === "pasta") return hostIp;
  return "127.0.0.1";
}

/** The container's /etc/hosts, laid out as Podman does. */
function hosts(c: ContainerConfig, names: string[]): string {
  const hostIp = hostAddress();
  const ip = ownAddress(c.host.networkMode, hostIp);
  return hostsFile({
    addHosts: c.host.addHosts ?? [],
    base: baseHosts(c),
    hostIp,
    self: ip === undefined ? undefined : { ip, names },
  });
}

/**
 * /run/.containerenv, by which programs know they run in a container:
 * empty, as Podman leaves it, except for a privileged container, which is
 * told what it is.
 */
function containerEnvFile(c: ContainerConfig): string {
  if (!c.host.privileged) return "";
  return [
    `engine="ptd"`,
    `name="${c.name}"`,
    `id="${c.id}"`,
    `image="${c.image}"`,
    `imageid="${c.imageId}"`,
    `rootless=${Deno.uid() === 0 ? 0 : 1}`,
    "",
  ].join("\n");
}

/**
 * Writes /etc/hostname, /etc/hosts, /etc/resolv.conf and /run/.containerenv
 * for the container.
 * With `shareFrom`, the runtime dir of the container whose network it
 * joined, hosts and resolv.conf are copies of that one's (Docker's
 * container: mode); the hostname stays its own.
 */
export function writeEtcFiles(
  dir: string,
  c: ContainerConfig,
  shareFrom?: string,
) {
  const host = hostnameOf(c);
  const names = host === c.name ? [host] : [host, c.name];
  const shared = (name: string, own: () => string) => {
    if (shareFrom === undefined) return own();
    try {
      return Deno.readTextFileSync(`${shareFrom}/${name}`);
    } catch {
      return own();
    }
  };
  const files: Record<string, string> = {
    "/etc/hostname": `${host}\n`,
    "/etc/hosts": shared("hosts", () => hosts(c, names)),
    "/run/.containerenv": containerEnvFile(c),
    "/etc/resolv.conf": shared("resolv.conf", () =>
      resolvConf(
        c.host.networkMode,
        hostFile("/etc/resolv.conf"),
        c.host.dns ?? { servers: [], search: [], options: [] },
      )),
  };
  const out: Record<string, string> = {};
  for (const [dst, text] of Object.entries(files)) {
    const path = `${dir}/${dst.slice(dst.lastIndexOf("/") + 1)}`;
    Deno.writeTextFileSync(path, text);
    out[dst] = path;
  }
  return out;
}

/**
 * The container's mounts as init mounts them: volumes become binds of their
 * data directory; a parent destination comes before what is mounted inside
 * it, or it would hide it.
 */
export function mountSpecs(
  volumes: VolumeStore,
  c: ContainerConfig,
): MountSpec[] {
  const depth = (p: string) => p.split("/").length;
  return [...(c.mounts ?? [])]
    .sort((a, b) => depth(a.destination) - depth(b.destination))
    .map((m) => {
      if (m.type === "volume") {
        const v = volumes.find(m.source);
        if (v.options) return volumeMount(c, v, m.destination, m.readonly);
      }
      const spec: MountSpec = {
        type: m.type === "tmpfs" ? "tmpfs" : "bind",
        source: m.type === "volume"
          ? volumes.find(m.source).mountpoint
          : m.source,
        destination: m.destination,
        readonly: m.readonly,
      };
      if (m.data) spec.data = m.data;
      return spec;
    });
}

/**
 * A volume made with the local driver's options: `type=tmpfs` is a tmpfs
 * with its `o=` options; any other mount (a device, a bind, uid=/gid=)
 * needs privileges a rootless user lacks, and fails as Podman's does.
 */
function volumeMount(
  c: ContainerConfig,
  v: VolumeRecord,
  destination: string,
  readonly: boolean,
): MountSpec {
  const o = v.options ?? {};
  const rest = Object.keys(o).filter((k) =>
    !["type", "device", "o"].includes(k)
  );
  if (o.type !== "tmpfs" || rest.length > 0) {
    throw new PtdError(
      "cannot-invoke",
      `mounting volume ${v.name} for container ${c.id}: mount: ${v.mountpoint}: permission denied.`,
    );
  }
  // o= reads as --tmpfs's options: flags apart, the rest as mount data.
  const t = parseTmpfsFlag(o.o ? `${destination}:${o.o}` : destination);
  return {
    type: "tmpfs",
    source: "tmpfs",
    destination,
    readonly: readonly || t.readonly,
    ...(t.data ? { data: t.data } : {}),
  };
}

/** Where --init's reaper is mounted inside the container. */
export const INIT_PATH = "/run/ptd-init";

/**
 * --init as in Podman: the host's catatonit, bound read-only into the
 * container, is PID 1; it reaps orphans and passes signals to the command.
 */
export function initBinary(path?: string): string {
  if (path === undefined) return requireTool("catatonit", "catatonit");
  try {
    Deno.statSync(path);
  } catch (e) {
    throw invalid(
      `container-init binary not found on the host: stat ${path}: ${
        errnoText(e)
      }`,
    );
  }
  return path;
}

/**
 * Prepares the runtime directory and returns the spec for `ptd init`. A
 * container that joins another's network finds it here, at each start: it
 * must be running now.
 */
export async function runtimeSpec(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<RuntimeSpec> {
  const mode = c.host.networkMode;
  const join = await networkJoin(store, mode);
  const run = ensureDir(store.runDir(c.id));
  const merged = ensureDir(`${run}/merged`);
  const dir = store.dir(c.id);
  const mounts = mountSpecs(new VolumeStore(store.paths), c);
  if (c.host.privileged && store.paths.rootless) {
    const own = DEVICES.map((d) => `/dev/${d}`);
    for (const dev of privilegedDevices(own)) {
      mounts.push({
        type: "bind",
        readonly: false,
        source: dev,
        destination: dev,
      });
    }
  }
  for (const d of c.host.devices ?? []) {
    mounts.push({ type: "bind", readonly: false, ...d });
  }
  let args = commandOf(c);
  if (c.host.init) {
    mounts.push({
      type: "bind",
      source: initBinary(c.host.initPath),
      destination: INIT_PATH,
      readonly: true,
    });
    args = [INIT_PATH, "--", ...args];
  }
  const etcFiles = writeEtcFiles(run, c, join?.etcDir);
  if (c.host.noHosts) delete etcFiles["/etc/hosts"];
  const ipcFrom = ipcTarget(c.host.ipc);
  const ipcPid = ipcFrom === undefined
    ? undefined
    : (await networkTarget(store, ipcFrom, "IPC namespace")).pid;
  if (c.host.tz) {
    // A copy, so that it is root's inside, as Podman writes it.
    etcFiles["/etc/localtime"] = `${run}/localtime`;
    Deno.copyFileSync(zoneFile(c.host.tz), etcFiles["/etc/localtime"]);
  }
  const h = c.host;
  return {
    id: c.id,
    rootfs: c.storageDriver === "vfs"
      ? { copy: vfsRoot(store, c), merged }
      : { lower: c.layers, upper: `${dir}/upper`, work: `${dir}/work`, merged },
    hostname: hostnameOf(c),
    etcFiles,
    sysctls: c.host.sysctls,
    mounts,
    process: {
      args,
      env: c.env,
      cwd: c.workdir || "/",
      user: c.user,
      groups: c.host.groupAdd,
      stdin: c.host.interactive,
      capabilities: resolveCaps(
        c.host.capAdd,
        c.host.capDrop,
        c.host.privileged,
      ),
      userCapabilities: userCapabilities(c.host),
      noNewPrivileges: c.host.noNewPrivileges,
      seccomp: storedSeccomp(store, c)?.toBase64(),
      rlimits: h.ulimits?.map((u) => [RLIMITS[u.name], u.soft, u.hard]),
      passwdEntries: h.passwdEntries,
      groupEntries: h.groupEntries,
      passwd: h.passwd ?? true,
    },
    idMaps: store.paths.rootless && h.userns
      ? usernsMaps(h.userns, userMaps())
      : undefined,
    // ns: and container: are not joined yet: a namespace of its own.
    cgroupns: h.cgroupns === "host"
      ? "host"
      : h.cgroupns === undefined
      ? defaultCgroupns()
      : "private",
    ipc: h.ipc === "host" || h.ipc === "none" ? h.ipc : "private",
    joinIpc: ipcPid === undefined ? undefined : `/proc/${ipcPid}/ns/ipc`,
    shmSize: h.shmSize ?? DEFAULT_SHM_SIZE,
    rootless: store.paths.rootless,
    privateNetwork: join ? join.netns !== undefined : privateNetwork(mode),
    joinNetns: join?.netns,
    privileged: c.host.privileged,
    mask: h.mask,
    unmask: h.unmask,
    readonlyRootfs: c.host.readOnly,
    dieWithParent: true,
  };
}
