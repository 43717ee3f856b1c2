/**
 * uid/gid maps for rootless containers: the user becomes root of the user
 * namespace, and the user's /etc/subuid and /etc/subgid range covers ids 1..N,
 * as Podman lays them out. The setuid helpers newuidmap/newgidmap write them.
 */
import { NotOnPath, spawnWait } from "../../ffi/spawn.ts";

/** One line of /proc/PID/uid_map: container id, host id, count. */
export interface IdRange {
  container: number;
  host: number;
  size: number;
}

/** The maps for a user namespace; `single` when no subordinate range exists. */
export interface IdMaps {
  uid: IdRange[];
  gid: IdRange[];
  single: boolean;
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The login name of `uid` from /etc/passwd, if any. */
export function userName(uid: number, passwd = readText("/etc/passwd")) {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length > 2 && Number(f[2]) === uid) return f[0];
  }
  return undefined;
}

/** The first subordinate range of a user in a subuid/subgid file's text. */
export function subRange(
  text: string,
  name: string | undefined,
  id: number,
): { start: number; count: number } | undefined {
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who !== name && who !== String(id)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) {
      return { start: s, count: c };
    }
  }
  return undefined;
}

/**
 * The maps for a user: own id as 0, subordinate range from 1. `read` gives
 * the text of /etc/passwd, /etc/subuid and /etc/subgid.
 */
export function idMapsFor(
  uid: number,
  gid: number,
  read: (path: string) => string = readText,
): IdMaps {
  const name = userName(uid, read("/etc/passwd"));
  const su = subRange(read("/etc/subuid"), name, uid);
  const sg = subRange(read("/etc/subgid"), name, uid);
  if (!su || !sg) {
    return {
      uid: [{ container: 0, host: uid, size: 1 }],
      gid: [{ container: 0, host: gid, size: 1 }],
      single: true,
    };
  }
  return {
    uid: [{ container: 0, host: uid, size: 1 }, {
      container: 1,
      host: su.start,
      size: su.count,
    }],
    gid: [{ container: 0, host: gid, size: 1 }, {
      container: 1,
      host: sg.start,
      size: sg.count,
    }],
    single: false,
  };
}

/** Maps a container uid to the host uid it is stored as, or undefined. */
export function toHost(ranges: IdRange[], id: number): number | undefined {
  for (const r of ranges) {
    if (id >= r.container && id < r.container + r.size) {
      return r.host + id - r.container;
    }
  }
  return undefined;
}

function flatten(ranges: IdRange[]): string[] {
  return ranges.flatMap((r) => [r.container, r.host, r.size].map(String));
}

async function helper(tool: string, pid: number, ranges: IdRange[]) {
  let out;
  try {
    out = await spawnWait([tool, String(pid), ...flatten(ranges)]);
  } catch (e) {
    if (e instanceof NotOnPath) {
      throw new Error(
        `${tool} not found: install the Debian package uidmap (apt-get install uidmap)`,
      );
    }
    throw e;
  }
  if (out.code !== 0) {
    throw new Error(`${tool} failed: ${out.stderr.trim().split("\n")[0]}`);
  }
}

/**
 * Writes the maps of process `pid`. A single mapping is written directly (the
 * kernel allows a user to map itself, with setgroups denied); ranges need the
 * setuid helpers.
 */
export async function writeIdMaps(pid: number, maps: IdMaps): Promise<void> {
  if (maps.single) {
    const line = (r: IdRange[]) =>
      `${r[0].container} ${r[0].host} ${r[0].size}\n`;
    Deno.writeTextFileSync(`/proc/${pid}/setgroups`, "deny");
    Deno.writeTextFileSync(`/proc/${pid}/uid_map`, line(maps.uid));
    Deno.writeTextFileSync(`/proc/${pid}/gid_map`, line(maps.gid));
    return;
  }
  await Promise.all([
    helper("newuidmap", pid, maps.uid),
    helper("newgidmap", pid, maps.gid),
  ]);
}
