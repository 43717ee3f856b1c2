/**
 * The mount flags of `run`/`create` (-v, --mount, --tmpfs, --read-only-tmpfs)
 * and the image's VOLUMEs, turned into the container's mount list. Parsing
 * is pure; `planMounts` adds the implicit mounts and `checkHostPaths` looks
 * at the host, so that every mistake is reported before anything is created.
 */
import { invalid } from "../runtime/errors.ts";
import type { ContainerMount } from "./config.ts";
import { validName } from "./names.ts";
import { randomId } from "./store.ts";

/** Options `-v` accepts after the destination. */
const VOLUME_OPTIONS = new Set(["ro", "rw", "z", "Z", "nocopy", "copy"]);
/** tmpfs options that are plain flags: nosuid, nodev and exec are what ptd mounts anyway. */
const TMPFS_FLAGS = new Set(["ro", "rw", "nosuid", "nodev", "exec"]);
/** tmpfs options with a value, passed to the kernel as mount data. */
const TMPFS_VALUES: Record<string, RegExp> = {
  size: /^\d+[kmgKMG%]?$/,
  mode: /^[0-7]{3,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  nr_inodes: /^\d+[kmgKMG]?$/,
};
/** Where --read-only-tmpfs puts writable scratch space, as Podman does. */
export const READ_ONLY_TMPFS = ["/tmp", "/var/tmp", "/run"];

/**
 * A destination inside the container: absolute, cleaned of "." and "..",
 * and never /proc (the kernel's view of the container must stay intact).
 */
export function cleanDestination(path: string, what: string): string {
  if (!path.startsWith("/")) {
    throw invalid(`${what}: destination ${path} must be an absolute path`);
  }
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  const clean = `/${parts.join("/")}`;
  if (clean === "/") {
    throw invalid(`${what}: destination cannot be "/"`);
  }
  if (parts[0] === "proc") {
    throw invalid(`${what}: cannot mount on ${clean}: inside /proc`);
  }
  return clean;
}

function checkVolumeName(name: string, what: string): string {
  if (!validName(name)) {
    throw invalid(
      `${what}: "${name}" is not a valid volume name: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; a host directory needs an absolute path`,
    );
  }
  return name;
}

/** A host path for a bind: absolute (relative ones are refused, as documented). */
function hostSource(path: string, what: string): string {
  if (!path.startsWith("/")) {
    throw invalid(
      `${what}: relative host path "${path}": must be an absolute path`,
    );
  }
  return path.replace(/\/+$/, "") || "/";
}

/** `-v SRC:DST[:OPTS]`, `-v DST[:OPTS]` (anonymous volume). */
export function parseVolumeFlag(spec: string): ContainerMount {
  const what = `invalid volume specification "${spec}"`;
  const parts = spec.split(":");
  let src = "";
  let dst: string;
  let opts = "";
  if (parts.length === 1) {
    dst = parts[0];
  } else if (parts.length === 2 && !parts[1].startsWith("/")) {
    [dst, opts] = parts;
  } else if (parts.length === 2 || parts.length === 3) {
    [src, dst, opts = ""] = parts;
    if (src === "") throw invalid(`${what}: empty source`);
  } else {
    throw invalid(`${what}: too many colons`);
  }
  let readonly = false;
  let noCopy = false;
  for (const o of opts === "" ? [] : opts.split(",")) {
    if (!VOLUME_OPTIONS.has(o)) {
      throw invalid(`${what}: unknown mount option "${o}"`);
    }
    // z/Z relabel for SELinux; there is no SELinux policy to satisfy here.
    if (o === "ro") readonly = true;
    if (o === "nocopy") noCopy = true;
  }
  const destination = cleanDestination(dst, what);
  if (src.startsWith("/")) {
    if (noCopy) throw invalid(`${what}: nocopy applies to volumes only`);
    return sourced("bind", src, destination, readonly, false, what);
  }
  if (src.startsWith(".") || src.includes("/")) hostSource(src, what);
  return sourced("volume", src, destination, readonly, noCopy, what);
}

/** A bind of host path `src`, or a volume: named, or anonymous when `src` is "". */
function sourced(
  type: "bind" | "volume",
  src: string,
  destination: string,
  readonly: boolean,
  noCopy: boolean,
  what: string,
): ContainerMount {
  if (type === "bind") {
    return { type, source: hostSource(src, what), destination, readonly };
  }
  if (src === "") {
    return { type, source: "", destination, readonly, anonymous: true, noCopy };
  }
  const source = checkVolumeName(src, what);
  return { type, source, destination, readonly, noCopy };
}

/** A Docker boolean option value: bare (true), true/false, 1/0. */
function boolValue(key: string, value: string | undefined, what: string) {
  if (value === undefined || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalid(`${what}: invalid value for ${key}: "${value}"`);
}

/** The --mount types: Podman 4.3's (it refuses ramfs and glob too). */
const MOUNT_TYPES = ["bind", "volume", "tmpfs", "devpts", "image"];

/** Options of a devpts mount, passed to the kernel as mount data. */
const DEVPTS_VALUES: Record<string, RegExp> = {
  uid: /^\d+$/,
  gid: /^\d+$/,
  mode: /^[0-7]{3,4}$/,
  max: /^\d+$/,
};

function devptsOption(key: string, value: string, what: string): string {
  if (!DEVPTS_VALUES[key].test(value)) {
    throw invalid(`${what}: invalid ${key} "${value}"`);
  }
  return `${key}=${value}`;
}

/**
 * Docker's `--mount type=bind|volume|tmpfs,src=,dst=,ro,...`, and
 * Podman's `type=devpts[,uid=,gid=,mode=,max=]` (a new instance) and
 * `type=image,src=IMAGE[,rw=true]` (the image's root, read-only unless rw).
 */
export function parseMountFlag(spec: string): ContainerMount {
  const what = `invalid --mount "${spec}"`;
  let type = "volume";
  let src = "";
  let dst = "";
  let readonly = false;
  let noCopy = false;
  const tmpfs: string[] = [];
  const devpts: string[] = [];
  const typed: string[] = [];
  let rwGiven = false;
  for (const item of spec.split(",")) {
    if (item === "") continue;
    const i = item.indexOf("=");
    const key = i < 0 ? item : item.slice(0, i);
    const value = i < 0 ? undefined : item.slice(i + 1);
    const need = () => {
      if (!value) throw invalid(`${what}: ${key} needs a value`);
      return value;
    };
    switch (key) {
      case "type":
        type = need();
        break;
      case "source":
      case "src":
        src = need();
        break;
      case "target":
      case "destination":
      case "dst":
        dst = need();
        break;
      case "readonly":
      case "ro":
        readonly = boolValue(key, value, what);
        break;
      case "volume-nocopy":
        noCopy = boolValue(key, value, what);
        typed.push("volume");
        break;
      case "tmpfs-size":
        tmpfs.push(tmpfsOption("size", need(), what));
        typed.push("tmpfs");
        break;
      case "tmpfs-mode":
        tmpfs.push(tmpfsOption("mode", need(), what));
        typed.push("tmpfs");
        break;
      case "uid":
      case "gid":
      case "mode":
      case "max":
        devpts.push(devptsOption(key, need(), what));
        typed.push("devpts");
        break;
      case "rw":
      case "readwrite":
        readonly = !boolValue(key, value, what);
        rwGiven = true;
        break;
      default:
        throw invalid(`${what}: unknown mount option "${key}"`);
    }
  }
  if (!MOUNT_TYPES.includes(type)) {
    throw invalid(`invalid filesystem type "${type}"`);
  }
  // An image's root is read-only unless rw says otherwise.
  if (type === "image" && !rwGiven) readonly = true;
  const foreign = typed.find((t) => t !== type);
  if (foreign) {
    throw invalid(`${what}: ${foreign} options do not apply to type ${type}`);
  }
  if (dst === "") throw invalid(`${what}: target is required`);
  const destination = cleanDestination(dst, what);
  if (type === "devpts") {
    if (src !== "") throw invalid(`${what}: a devpts has no source`);
    return { type, source: "", destination, readonly, data: devpts.join(",") };
  }
  if (type === "image") {
    if (src === "") throw invalid(`${what}: an image mount needs a source`);
    return { type, source: src, destination, readonly };
  }
  if (type === "tmpfs") {
    if (src !== "") throw invalid(`${what}: a tmpfs has no source`);
    return tmpfsMount(destination, readonly, tmpfs);
  }
  if (type === "bind" && src === "") {
    throw invalid(`${what}: a bind needs a source`);
  }
  return sourced(
    type as "bind" | "volume",
    src,
    destination,
    readonly,
    noCopy,
    what,
  );
}

function tmpfsOption(key: string, value: string, what: string): string {
  if (!TMPFS_VALUES[key].test(value)) {
    throw invalid(`${what}: invalid ${key} "${value}"`);
  }
  return `${key}=${value}`;
}

function tmpfsMount(
  destination: string,
  readonly: boolean,
  data: string[],
): ContainerMount {
  const m: ContainerMount = {
    type: "tmpfs",
    source: "",
    destination,
    readonly,
  };
  if (data.length > 0) m.data = data.join(",");
  return m;
}

/** `--tmpfs DST[:size=64m,mode=1777,...]`. */
export function parseTmpfsFlag(spec: string): ContainerMount {
  const what = `invalid --tmpfs "${spec}"`;
  const i = spec.indexOf(":");
  const dst = i < 0 ? spec : spec.slice(0, i);
  const opts = i < 0 ? "" : spec.slice(i + 1);
  let readonly = false;
  const data: string[] = [];
  for (const o of opts === "" ? [] : opts.split(",")) {
    const eq = o.indexOf("=");
    if (eq < 0 && TMPFS_FLAGS.has(o)) {
      readonly = o === "ro" ? true : o === "rw" ? false : readonly;
    } else if (eq > 0 && o.slice(0, eq) in TMPFS_VALUES) {
      data.push(tmpfsOption(o.slice(0, eq), o.slice(eq + 1), what));
    } else {
      throw invalid(`${what}: unknown mount option "${o}"`);
    }
  }
  return tmpfsMount(cleanDestination(dst, what), readonly, data);
}

/** The mount flags of `run`/`create`, as given. */
export interface MountFlags {
  volume: string[];
  mount: string[];
  tmpfs: string[];
}

/** Parses every mount flag, so the first bad one fails before anything is created. */
export function parseMountFlags(f: MountFlags): ContainerMount[] {
  return [
    ...f.volume.map(parseVolumeFlag),
    ...f.mount.map(parseMountFlag),
    ...f.tmpfs.map(parseTmpfsFlag),
  ];
}

/** What, beyond the user's flags, decides a container's mounts. */
export interface MountDefaults {
  /** --read-only with --read-only-tmpfs: scratch tmpfs on READ_ONLY_TMPFS. */
  readOnlyTmpfs: boolean;
  /** The image's VOLUME paths: anonymous volumes unless a flag covers them. */
  imageVolumes: string[];
  /** --image-volume tmpfs: the image's VOLUME paths get tmpfs mounts instead. */
  imageVolumesTmpfs?: boolean;
}

/**
 * The full mount list: the user's mounts, then the implicit ones where the
 * user put nothing. Two user mounts on one destination are an error, as in
 * Docker. Anonymous volumes get their random names here.
 */
export function planMounts(
  user: ContainerMount[],
  defaults: MountDefaults,
): ContainerMount[] {
  const taken = new Set<string>();
  for (const m of user) {
    if (taken.has(m.destination)) {
      throw invalid(`duplicate mount destination ${m.destination}`);
    }
    taken.add(m.destination);
  }
  const out = [...user];
  const add = (m: ContainerMount) => {
    if (taken.has(m.destination)) return;
    taken.add(m.destination);
    out.push(m);
  };
  for (const v of defaults.imageVolumes) {
    const destination = cleanDestination(v, `image volume ${v}`);
    add(
      defaults.imageVolumesTmpfs ? tmpfsMount(destination, false, []) : {
        type: "volume",
        source: "",
        destination,
        readonly: false,
        anonymous: true,
      },
    );
  }
  if (defaults.readOnlyTmpfs) {
    for (const d of READ_ONLY_TMPFS) add(tmpfsMount(d, false, []));
  }
  return out.map((m) =>
    m.type === "volume" && m.source === "" ? { ...m, source: randomId() } : m
  );
}

/** Refuses binds whose host path is missing (Podman's rule for -v /abs). */
export function checkHostPaths(mounts: ContainerMount[]): void {
  for (const m of mounts) {
    if (m.type !== "bind") continue;
    try {
      Deno.statSync(m.source);
    } catch {
      throw invalid(
        `bind mount source ${m.source}: no such file or directory`,
      );
    }
  }
}
