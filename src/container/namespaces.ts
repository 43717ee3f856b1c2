/**
 * --ipc and --userns as Podman reads them. Parsed once at create; the
 * parsed form is stored with the container and is what a start acts on.
 */
import { invalid, PtdError } from "../runtime/errors.ts";
import {
  compose,
  type IdRange,
  keepIdRanges,
  mapSize,
  subRanges,
} from "../runtime/idmap.ts";
import type { ContainerStore } from "./store.ts";

/**
 * A parsed --ipc: the container's IPC namespace and /dev/shm; for
 * container:NAME, those of another container (found at each start).
 */
export type IpcMode =
  | "private"
  | "shareable"
  | "host"
  | "none"
  | `container:${string}`;

/** Parses --ipc: private, shareable (the default), host, none, container:NAME. */
export function parseIpc(value: string): IpcMode {
  if (value === "") return "shareable";
  if (["private", "shareable", "host", "none"].includes(value)) {
    return value as IpcMode;
  }
  if (value.startsWith("container:") && value.length > 10) {
    return value as IpcMode;
  }
  throw invalid(`unrecognized namespace mode ${value} passed`);
}

/**
 * The container whose namespace a container:NAME mode (--ipc, --pid,
 * --uts, a pod member's) joins, if any.
 */
export function ipcTarget(mode: string | undefined): string | undefined {
  return mode?.startsWith("container:") ? mode.slice(10) : undefined;
}

/** container:NAME needs that container, with Podman's error for `kind`. */
export function checkNsTarget(
  store: ContainerStore,
  kind: string,
  target: string,
) {
  try {
    store.find(target);
  } catch (e) {
    throw invalid(
      `looking up container to share ${kind} namespace with: ${
        (e as Error).message
      }`,
    );
  }
}

/** A parsed --userns (with --uidmap and --gidmap). */
export interface UsernsMode {
  /**
   * host/private: the user's own map (its id is root, the subordinate
   * ranges follow); keep-id: the user's id is itself (or `uid`) inside;
   * nomap: only the subordinate ranges; custom: --uidmap/--gidmap;
   * auto: a range of its own, chosen at create (then in uidmap/gidmap);
   * ns: the user namespace at `path`.
   */
  kind: "host" | "keep-id" | "nomap" | "custom" | "auto" | "ns";
  path?: string;
  /** keep-id: the container ids the user's uid and gid become. */
  uid?: number;
  gid?: number;
  /** custom, auto: ranges over the user's id space (0 is the user itself). */
  uidmap?: IdRange[];
  gidmap?: IdRange[];
  /** auto: size=, 0 for the image's; uidmapping=/gidmapping= forced ranges. */
  size?: number;
  uidmapping?: IdRange[];
  gidmapping?: IdRange[];
}

function keepIdOptions(opts: string): { uid?: number; gid?: number } {
  const out: { uid?: number; gid?: number } = {};
  for (const o of opts.split(",")) {
    const [k, v] = o.split("=", 2);
    if ((k === "uid" || k === "gid") && /^\d+$/.test(v ?? "")) {
      out[k] = Number(v);
    } else {
      throw invalid(`unknown option specified: "${k}"`);
    }
  }
  return out;
}

/** Parses auto's options as Podman does: size, uidmapping, gidmapping. */
function autoOptions(opts: string): UsernsMode {
  const mode: UsernsMode = { kind: "auto" };
  for (const o of opts.split(",")) {
    const [k, v = ""] = o.split("=", 2);
    if (k === "size") {
      if (!/^\d+$/.test(v)) {
        throw invalid(`strconv.ParseUint: parsing "${v}": invalid syntax`);
      }
      mode.size = Number(v);
    } else if (k === "uidmapping" || k === "gidmapping") {
      // Podman's parser says UID for both.
      if (!/^\d+:\d+:\d+$/.test(v)) {
        throw invalid(
          `failed to create ParseUIDMap UID=[${v}]: initializing ID mappings: UID setting is malformed expected ["uint32:uint32:uint32"]: ["${v}"]`,
        );
      }
      const [container, host, size] = v.split(":").map(Number);
      (mode[k] ??= []).push({ container, host, size });
    } else {
      throw invalid(`unknown option specified: "${k}"`);
    }
  }
  return mode;
}

/**
 * ns:PATH: the path must exist (Podman's error, at create); joining it
 * fails at start, as rootless Podman's does here.
 */
function joinedUserns(path: string): UsernsMode {
  try {
    Deno.statSync(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (e as Error).message;
    throw invalid(
      `cannot find specified user namespace path: stat ${path}: ${why}`,
    );
  }
  return { kind: "ns", path };
}

/** One --uidmap/--gidmap value, "CONTAINER:HOST:SIZE". */
export function parseIdMap(value: string, flag: string): IdRange {
  const parts = value.split(":");
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p))) {
    throw invalid(
      `invalid ${flag} mapping "${value}": want CONTAINER:HOST:SIZE`,
    );
  }
  const [container, host, size] = parts.map(Number);
  return { container, host, size };
}

/**
 * Parses --userns with --uidmap/--gidmap (a gid map defaults to the uid
 * map, as in Podman). auto's range is chosen at create (autoRanges).
 */
export function parseUserns(
  value: string,
  uidmap: string[] = [],
  gidmap: string[] = [],
): UsernsMode {
  if (uidmap.length + gidmap.length > 0) {
    if (value !== "" && value !== "private") {
      throw invalid("--userns and --uidmap/--gidmap are mutually exclusive");
    }
    const uids = uidmap.map((m) => parseIdMap(m, "--uidmap"));
    const gids = gidmap.map((m) => parseIdMap(m, "--gidmap"));
    return {
      kind: "custom",
      uidmap: uids.length > 0 ? uids : gids,
      gidmap: gids.length > 0 ? gids : uids,
    };
  }
  const [name, opts] = value.split(/:(.*)/s, 2);
  switch (name) {
    case "":
    case "host":
    case "private":
      if (opts === undefined) return { kind: "host" };
      break;
    case "nomap":
      if (opts === undefined) return { kind: "nomap" };
      break;
    case "keep-id":
      return { kind: "keep-id", ...(opts ? keepIdOptions(opts) : {}) };
    case "auto":
      return opts ? autoOptions(opts) : { kind: "auto" };
    case "ns":
      if (opts) return joinedUserns(opts);
      if (opts === "") {
        throw invalid(
          "invalid config provided: namespace mode path requires a value",
        );
      }
      break;
  }
  throw invalid(`unrecognized namespace mode ${value} passed`);
}

const NOT_MAPPED =
  "a user namespace without your own uid and gid cannot open the container's files: map host id 0 (you) too";

/**
 * --subuidname/--subgidname: a map made of another name's subordinate
 * ranges. Rootless, that never has the user itself in it, which ptd needs
 * (see usernsMaps); a name without ranges gets Podman's error.
 */
export function checkSubidName(
  name: string,
  file: "/etc/subuid" | "/etc/subgid",
) {
  let text = "";
  try {
    text = Deno.readTextFileSync(file);
  } catch { /* no file: no ranges */ }
  if (subRanges(text, name, -1).length === 0) {
    throw invalid(
      `no ${file.slice(5)} ranges found for user "${name}" in ${file}`,
    );
  }
  throw invalid(NOT_MAPPED);
}

type Maps = { uid: IdRange[]; gid: IdRange[] };

/** A --userns's ranges over the user's id space, and as host ranges. */
function composed(mode: UsernsMode, base: Maps): Maps & { wanted: Maps } {
  const wanted = wantedRanges(mode, base);
  try {
    return {
      wanted,
      uid: compose(wanted.uid, base.uid),
      gid: compose(wanted.gid, base.gid),
    };
  } catch (e) {
    throw invalid(`--userns: ${(e as Error).message}`);
  }
}

/**
 * What create checks of a --userns (Podman's create takes the rest and
 * its start fails): the ranges are among the user's ids.
 */
export function checkUserns(mode: UsernsMode | undefined, base: Maps) {
  if (mode && mode.kind !== "host" && mode.kind !== "ns") composed(mode, base);
}

/**
 * The host maps for a --userns over `base`, the user's own maps (0 the
 * user, 1.. its subordinate ids); undefined where base itself is meant.
 * A --rootfs directory (`ownRoot`) holds the user's own files, which a
 * namespace without the user cannot open; an image's root is a re-owned
 * copy (reownMaps). What cannot start fails with 126, as rootless
 * Podman's start does.
 */
export function usernsMaps(
  mode: UsernsMode | undefined,
  base: Maps,
  ownRoot = true,
): Maps | undefined {
  if (!mode || mode.kind === "host") return undefined;
  if (mode.kind === "ns") {
    // Rootless Podman's runtime cannot join it either, from inside
    // Podman's own user namespace.
    throw new PtdError(
      "cannot-invoke",
      `cannot join user namespace ${mode.path}: a rootless container keeps its own user namespace`,
    );
  }
  const { wanted, uid, gid } = composed(mode, base);
  if (ownRoot && !(mapsUser(wanted.uid) && mapsUser(wanted.gid))) {
    // Podman's start fails the same way on a --rootfs directory.
    throw new PtdError("cannot-invoke", `${NOT_MAPPED}: permission denied`);
  }
  return { uid, gid };
}

/**
 * The group Podman adds to the processes of a keep-id or nomap container
 * (its default user's), whatever -u says.
 */
export function usernsGroups(mode: UsernsMode | undefined): string[] {
  if (mode?.kind === "nomap") return ["0"];
  if (mode?.kind === "keep-id") return [String(mode.gid ?? Deno.gid())];
  return [];
}

/** Whether ranges over the user's id space hold the user itself. */
export function mapsUser(r: IdRange[]): boolean {
  return r.some((x) => x.host === 0);
}

/**
 * The ranges (over the user's id space) an image's files must be re-owned
 * to for a --userns, or undefined when the layers as unpacked (the user's
 * own map, id for id) are right as they are.
 */
export function reownMaps(
  mode: UsernsMode | undefined,
  base: Maps,
): Maps | undefined {
  if (!mode || mode.kind === "host" || mode.kind === "ns") return undefined;
  const wanted = wantedRanges(mode, base);
  const same = (r: IdRange[], b: IdRange[]) =>
    r.length === 1 && r[0].container === 0 && r[0].host === 0 &&
    r[0].size === mapSize(b);
  if (same(wanted.uid, base.uid) && same(wanted.gid, base.gid)) return;
  return wanted;
}

/** A --userns's ranges over the user's own id space. */
function wantedRanges(mode: UsernsMode, base: Maps): Maps {
  if (mode.kind === "nomap") {
    const all = (
      r: IdRange[],
    ) => [{ container: 0, host: 1, size: mapSize(r) - 1 }];
    return { uid: all(base.uid), gid: all(base.gid) };
  }
  if (mode.kind === "keep-id") {
    return {
      uid: keepIdRanges(mode.uid ?? Deno.uid()!, mapSize(base.uid)),
      gid: keepIdRanges(mode.gid ?? Deno.gid()!, mapSize(base.gid)),
    };
  }
  return { uid: mode.uidmap ?? [], gid: mode.gidmap ?? [] };
}

/** The size auto takes without size=: Podman's minimum. */
const AUTO_MIN_SIZE = 1024;

/** Container ids (from, size) that still need host ids. */
type Span = { from: number; size: number };

/** The spans of [0, size) outside `forced`'s container ids. */
function unforced(size: number, forced: IdRange[] = []): Span[] {
  const out: Span[] = [];
  let from = 0;
  for (const f of [...forced].sort((a, b) => a.container - b.container)) {
    if (f.container > from) out.push({ from, size: f.container - from });
    from = Math.max(from, f.container + f.size);
  }
  if (from < size) out.push({ from, size: size - from });
  return out;
}

/**
 * Host ids for `wanted`, first fit over [1, limit) less `taken`, split
 * where a free stretch ends.
 */
function firstFit(wanted: Span[], taken: IdRange[], limit: number): IdRange[] {
  const free: Span[] = [];
  let at = 1;
  for (const t of [...taken].sort((a, b) => a.host - b.host)) {
    if (t.host > at) free.push({ from: at, size: t.host - at });
    at = Math.max(at, t.host + t.size);
  }
  if (at < limit) free.push({ from: at, size: limit - at });
  const out: IdRange[] = [];
  for (const w of wanted) {
    for (let done = 0; done < w.size;) {
      const f = free.find((x) => x.size > 0);
      if (!f) {
        throw invalid(
          "creating container storage: could not find enough available IDs",
        );
      }
      const n = Math.min(f.size, w.size - done);
      out.push({ container: w.from + done, host: f.from, size: n });
      f.from += n;
      f.size -= n;
      done += n;
    }
  }
  return out;
}

/**
 * auto: the ranges of a new container over the user's subordinate ids
 * (never the user itself), uids and gids each the first free ones not in
 * `taken` (what other containers with maps of their own hold), as Podman
 * allocates them. Container ids of uidmapping= and gidmapping= go where
 * those say; the others, `size` of them (or the image's `needed`, at
 * least 1024), follow one another.
 */
export function autoRanges(
  mode: UsernsMode,
  base: Maps,
  taken: Maps,
  needed: number,
): UsernsMode {
  const size = mode.size || Math.max(AUTO_MIN_SIZE, needed);
  const pick = (forced: IdRange[] | undefined, kind: "uid" | "gid") => [
    ...firstFit(unforced(size, forced), taken[kind], mapSize(base[kind])),
    ...forced ?? [],
  ];
  return {
    ...mode,
    uidmap: pick(mode.uidmapping, "uid"),
    gidmap: pick(mode.gidmapping, "gid"),
  };
}

/**
 * The ranges over the user's ids that a container's --userns holds, for
 * auto to keep clear of: none for the user's own map or another namespace.
 */
export function heldRanges(mode: UsernsMode | undefined, base: Maps): Maps {
  if (!mode || mode.kind === "host" || mode.kind === "ns") {
    return { uid: [], gid: [] };
  }
  return wantedRanges(mode, base);
}

/**
 * The ids an image's /etc/passwd and /etc/group name, and the numeric ones
 * of `user` (-u), but nobody's, plus one: what auto sizes the namespace to
 * without size=.
 */
export function idsNamed(passwd = "", group = "", user = ""): number {
  const ids = [
    ...[passwd, group].flatMap((t) =>
      t.split("\n").map((l) => l.split(":")[2])
    ),
    ...user.split(":"),
  ].filter((f) => /^\d+$/.test(f ?? "")).map(Number);
  return Math.max(0, ...ids.filter((id) => id !== 65534).map((id) => id + 1));
}
