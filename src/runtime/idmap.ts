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

/** Every subordinate range of a user in a subuid/subgid file's text. */
export function subRanges(
  text: string,
  name: string | undefined,
  id: number,
): { start: number; count: number }[] {
  const out = [];
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who !== name && who !== String(id)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) {
      out.push({ start: s, count: c });
    }
  }
  return out;
}

/** Own id as 0, then every subordinate range one after the other from 1. */
function rangesFrom(
  own: number,
  subs: { start: number; count: number }[],
): IdRange[] {
  const out = [{ container: 0, host: own, size: 1 }];
  let next = 1;
  for (const r of subs) {
    out.push({ container: next, host: r.start, size: r.count });
    next += r.count;
  }
  return out;
}

/**
 * The maps for a user: own id as 0, subordinate ranges from 1 (all of
 * them: newuidmap takes several). `read` gives the text of /etc/passwd,
 * /etc/subuid and /etc/subgid.
 */
export function idMapsFor(
  uid: number,
  gid: number,
  read: (path: string) => string = readText,
): IdMaps {
  const name = userName(uid, read("/etc/passwd"));
  const su = subRanges(read("/etc/subuid"), name, uid);
  const sg = subRanges(read("/etc/subgid"), name, uid);
  if (su.length === 0 || sg.length === 0) {
    return {
      uid: [{ container: 0, host: uid, size: 1 }],
      gid: [{ container: 0, host: gid, size: 1 }],
      single: true,
    };
  }
  return { uid: rangesFrom(uid, su), gid: rangesFrom(gid, sg), single: false };
}

/** How many ids a user's maps cover. */
export function mapSize(ranges: IdRange[]): number {
  return ranges.reduce((n, r) => n + r.size, 0);
}

/**
 * Ranges over the user's own id space (0 is the user, 1.. the subordinate
 * ids, as Podman numbers them for --uidmap) turned into host ranges
 * through `base`, split where base's ranges end. An id outside it fails.
 */
export function compose(wanted: IdRange[], base: IdRange[]): IdRange[] {
  const out: IdRange[] = [];
  for (const w of wanted) {
    let done = 0;
    while (done < w.size) {
      const id = w.host + done;
      const b = base.find((r) =>
        id >= r.container && id < r.container + r.size
      );
      if (!b) {
        throw new Error(
          `id ${id} is not among the ${mapSize(base)} ids this user may map`,
        );
      }
      const n = Math.min(w.size - done, b.container + b.size - id);
      out.push({
        container: w.container + done,
        host: b.host + id - b.container,
        size: n,
      });
      done += n;
    }
  }
  return out;
}

/**
 * Podman's keep-id layout over the user's id space: container ids below
 * `inside` are subordinate ids, `inside` is the user, the rest follow.
 */
export function keepIdRanges(inside: number, total: number): IdRange[] {
  const out = [];
  if (inside > 0) out.push({ container: 0, host: 1, size: inside });
  out.push({ container: inside, host: 0, size: 1 });
  if (total - 1 - inside > 0) {
    out.push({
      container: inside + 1,
      host: inside + 1,
      size: total - 1 - inside,
    });
  }
  return out;
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
