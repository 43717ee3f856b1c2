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
import {
  commandOf,
  type ContainerConfig,
  type ContainerMount,
  hostnameOf,
} from "./config.ts";
import { networkJoin, networkTarget } from "./network.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";
import { parseTmpfsFlag } from "./mounts.ts";
import { DEFAULT_SHM_SIZE, RLIMITS } from "./limits.ts";
import {
  ipcTarget,
  reownMaps,
  usernsGroups,
  usernsMaps,
} from "./namespaces.ts";
import { lazy } from "../runtime/lazy.ts";
import { zoneFile } from "./timezone.ts";
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
function baseHosts(c: ContainerConfig, imageHosts?: string): string {
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
    if (imageHosts === undefined) {
      throw unreadable(`${c.layers[0]}/etc/hosts`, new Deno.errors.NotFound());
    }
    return imageHosts;
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

/**
 * The image's own /etc/hosts, for base_hosts_file=image: the code that
 * reads an image's files loads only then.
 */
async function imageHostsFile(c: ContainerConfig): Promise<string | undefined> {
  if (c.host.baseHostsFile !== "image") return undefined;
  const { readImageFile } = await lazy<typeof import("./image_file.ts")>(
    "src/container/image_file.ts",
  );
  return readImageFile(c.layers, "/etc/hosts");
}

/** The container's /etc/hosts, laid out as Podman does. */
function hosts(c: ContainerConfig, names: string[], imageHosts?: string) {
  const hostIp = hostAddress();
  const ip = ownAddress(c.host.networkMode, hostIp);
  return hostsFile({
    addHosts: c.host.addHosts ?? [],
    base: baseHosts(c, imageHosts),
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
 * A joined network's hosts file with a loopback line for those of `names`
 * it lacks, as Podman adds it (a pod member's own name; with --network
 * container:, its hostname and name).
 */
function withOwnNames(text: string, names: string[]): string {
  const known = new Set(
    text.split("\n").flatMap((l) => l.split(/\s+/).slice(1)),
  );
  const missing = names.filter((n) => !known.has(n));
  return missing.length === 0
    ? text
    : `${text}127.0.0.1\t${missing.join(" ")}\n`;
}

/**
 * Writes /etc/hostname, /etc/hosts, /etc/resolv.conf and /run/.containerenv
 * for the container.
 * With `shareFrom`, the runtime dir of the container whose network it
 * joined, hosts and resolv.conf are copies of that one's (Docker's
 * container: mode); the hostname stays its own.
 */
export async function writeEtcFiles(
  dir: string,
  c: ContainerConfig,
  shareFrom?: string,
): Promise<Record<string, string>> {
  const imageHosts = await imageHostsFile(c);
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
  // Podman writes the name without a newline, and no resolv.conf at all
  // for a container without a network.
  const files: Record<string, string> = {
    "/etc/hostname": host,
    "/etc/hosts": shareFrom === undefined
      ? hosts(c, names, imageHosts)
      : withOwnNames(shared("hosts", () => hosts(c, names, imageHosts)), names),
    "/run/.containerenv": containerEnvFile(c),
  };
  if (c.host.networkMode.kind !== "none") {
    files["/etc/resolv.conf"] = shared("resolv.conf", () =>
      resolvConf(
        c.host.networkMode,
        hostFile("/etc/resolv.conf"),
        c.host.dns ?? { servers: [], search: [], options: [] },
      ));
  }
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
 * data directory, images overlays under the container's directory `dir`;
 * a parent destination comes before what is mounted inside it, or it
 * would hide it.
 */
export function mountSpecs(
  volumes: VolumeStore,
  c: ContainerConfig,
  dir: string,
): MountSpec[] {
  const depth = (p: string) => p.split("/").length;
  return [...(c.mounts ?? [])]
    .sort((a, b) => depth(a.destination) - depth(b.destination))
    .map((m, i) => {
      if (m.type === "image") return imageMount(m, `${dir}/image-mounts/${i}`);
      if (m.type === "volume") {
        const v = volumes.find(m.source);
        if (v.options) return volumeMount(c, v, m.destination, m.readonly);
      }
      const spec: MountSpec = {
        type: m.type === "tmpfs" || m.type === "devpts" ? m.type : "bind",
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
 * --mount type=image: an overlay of the image's layers, mounted on
 * `dir`/merged; read-only, it has an empty bottom layer (an overlay
 * without an upper wants two), writable, an upper of the container's own.
 */
function imageMount(m: ContainerMount, dir: string): MountSpec {
  const merged = ensureDir(`${dir}/merged`);
  const spec: MountSpec = {
    type: "overlay",
    source: merged,
    destination: m.destination,
    readonly: m.readonly,
    lower: [...m.layers!],
  };
  if (m.readonly) spec.lower!.push(ensureDir(`${dir}/empty`));
  else {
    spec.upper = ensureDir(`${dir}/upper`);
    spec.work = ensureDir(`${dir}/work`);
  }
  return spec;
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

/** --secret's part of the spec; the secret code loads only for them. */
async function secretParts(store: ContainerStore, c: ContainerConfig) {
  const { secretSpec, SecretStore } = await lazy<
    typeof import("../secret/use.ts")
  >("src/secret/use.ts");
  return secretSpec(
    new SecretStore(store.paths),
    store.dir(c.id),
    c.host.secrets!,
  );
}

/**
 * An image's root re-owned to the container's --userns (reowned_root.ts,
 * loaded only for one): its lower layer and its mount point, each made
 * again if missing; undefined for the layers as they are.
 */
async function reownedRoot(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<{ lower: string[]; merged: string } | undefined> {
  const maps = store.paths.rootless && !c.rootfs
    ? reownMaps(c.host.userns, userMaps())
    : undefined;
  if (!maps) return undefined;
  const r = await lazy<typeof import("./reowned_root.ts")>(
    "src/container/reowned_root.ts",
  );
  const lower = c.storageDriver === "vfs"
    ? []
    : [await r.reownedImage(c.layers, maps)];
  await r.ownContainerDirs(store.dir(c.id), maps);
  return { lower, merged: r.mountPoint(store.dir(c.id)) };
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
  const mounts = mountSpecs(new VolumeStore(store.paths), c, dir);
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
  const etcFiles = await writeEtcFiles(run, c, join?.etcDir);
  if (c.host.noHosts) delete etcFiles["/etc/hosts"];
  const pidOf = async (ref: string, what: string) =>
    (await networkTarget(store, ref, what)).pid;
  const ipcFrom = ipcTarget(c.host.ipc);
  const ipcPid = ipcFrom === undefined
    ? undefined
    : await pidOf(ipcFrom, "IPC namespace");
  if (c.host.tz) {
    // A copy, so that it is root's inside, as Podman writes it.
    etcFiles["/etc/localtime"] = `${run}/localtime`;
    Deno.copyFileSync(zoneFile(c.host.tz), etcFiles["/etc/localtime"]);
  }
  const h = c.host;
  const secrets = h.secrets?.length ? await secretParts(store, c) : undefined;
  mounts.push(...secrets?.mounts ?? []);
  // --chrootdirs get the name-resolution files, as Podman's do.
  for (const dir of h.chrootDirs ?? []) {
    for (const dst of ["/etc/hosts", "/etc/resolv.conf"]) {
      if (etcFiles[dst]) etcFiles[`${dir}${dst}`] = etcFiles[dst];
    }
  }
  // The code for --pid and --uts loads only for them.
  const shared = h.pid || h.uts
    ? await (await lazy<typeof import("./shared_ns.ts")>(
      "src/container/shared_ns.ts",
    )).sharedNamespacesSpec(h, pidOf)
    : {};
  const root = await reownedRoot(store, c);
  return {
    ...shared,
    id: c.id,
    rootfs: c.storageDriver === "vfs"
      ? { copy: vfsRoot(store, c), merged: root?.merged ?? merged }
      : {
        lower: root?.lower ?? c.layers,
        upper: `${dir}/upper`,
        work: `${dir}/work`,
        merged: root?.merged ?? merged,
      },
    // With the host's UTS namespace, $HOSTNAME is the host's name.
    hostname: h.uts === "host" ? Deno.hostname() : hostnameOf(c),
    etcFiles,
    sysctls: c.host.sysctls,
    mounts,
    owners: secrets?.owners,
    process: {
      args,
      env: [...c.env, ...secrets?.env ?? []],
      cwd: c.workdir || "/",
      user: c.user,
      groups: [...c.host.groupAdd, ...usernsGroups(h.userns)],
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
      passwdEntry: h.passwdEntry,
      umask: h.umask === undefined ? undefined : parseInt(h.umask, 8),
      personality: h.personality,
    },
    idMaps: store.paths.rootless && h.userns
      ? usernsMaps(h.userns, userMaps(), c.rootfs)
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
