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
 * The container whose namespace a container:NAME mode joins (--ipc, a pod
 * member's UTS and PID namespaces), if any.
 */
export function ipcTarget(mode: string | undefined): string | undefined {
  return mode?.startsWith("container:") ? mode.slice(10) : undefined;
}

/** A parsed --userns (with --uidmap and --gidmap). */
export interface UsernsMode {
  /**
   * host/private: the user's own map (its id is root, the subordinate
   * ranges follow); keep-id: the user's id is itself (or `uid`) inside;
   * nomap: only the subordinate ranges; custom: --uidmap/--gidmap;
   * ns: the user namespace at `path`.
   */
  kind: "host" | "keep-id" | "nomap" | "custom" | "ns";
  path?: string;
  /** keep-id: the container ids the user's uid and gid become. */
  uid?: number;
  gid?: number;
  /** custom: ranges over the user's id space (0 is the user itself). */
  uidmap?: IdRange[];
  gidmap?: IdRange[];
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

/** Checks auto's options as Podman does: size, uidmapping, gidmapping. */
function checkAutoOptions(opts: string) {
  for (const o of opts.split(",")) {
    const [k, v = ""] = o.split("=", 2);
    if (k === "size") {
      if (!/^\d+$/.test(v)) {
        throw invalid(`strconv.ParseUint: parsing "${v}": invalid syntax`);
      }
    } else if (k === "uidmapping" || k === "gidmapping") {
      // Podman's parser says UID for both.
      if (!/^\d+:\d+:\d+$/.test(v)) {
        throw invalid(
          `failed to create ParseUIDMap UID=[${v}]: initializing ID mappings: UID setting is malformed expected ["uint32:uint32:uint32"]: ["${v}"]`,
        );
      }
    } else {
      throw invalid(`unknown option specified: "${k}"`);
    }
  }
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
 * map, as in Podman). `auto` needs what a rootless user lacks here: its
 * options are checked, then it is refused.
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
      if (opts) checkAutoOptions(opts);
      throw new PtdError(
        "cannot-invoke",
        "--userns auto: no subordinate ids are set aside for automatic user namespaces",
      );
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
 * What cannot start fails with 126, as rootless Podman's start does.
 */
export function usernsMaps(
  mode: UsernsMode | undefined,
  base: Maps,
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
  const mapsUser = (r: IdRange[]) => r.some((x) => x.host === 0);
  if (!mapsUser(wanted.uid) || !mapsUser(wanted.gid)) {
    // The container's storage and spec are the user's own files: a
    // namespace without the user in it cannot open them (Podman's start
    // fails the same way on a --rootfs directory).
    throw new PtdError("cannot-invoke", `${NOT_MAPPED}: permission denied`);
  }
  return { uid, gid };
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
  return { uid: mode.uidmap!, gid: mode.gidmap! };
}
