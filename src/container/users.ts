/**
 * The users a container gets from the host: --hostuser entries and the
 * user --userns keep-id runs as, with the /etc/passwd and /etc/group lines
 * Podman writes for them.
 */
import { PtdError } from "../runtime/errors.ts";

function hostFile(path: string): string[][] {
  try {
    return Deno.readTextFileSync(path).split("\n").map((l) => l.split(":"));
  } catch {
    return [];
  }
}

/** The passwd and group lines for host user `who` (a name or uid) as `uid:gid` inside. */
function entriesFor(
  who: string,
  home: string,
  inside?: { uid: number; gid: number },
): { passwd: string; group: string } {
  const f = hostFile("/etc/passwd").find((f) =>
    f.length >= 7 && (f[0] === who || f[2] === who)
  );
  if (!f) {
    throw new PtdError(
      "cannot-invoke",
      `creating temporary passwd file for container: user: unknown user ${who}`,
    );
  }
  const uid = inside?.uid ?? Number(f[2]), gid = inside?.gid ?? Number(f[3]);
  const group = hostFile("/etc/group").find((g) => g[2] === f[3])?.[0] ??
    f[0];
  return {
    passwd: `${f[0]}:*:${uid}:${gid}:${f[4]}:${home}:/bin/sh`,
    group: `${group}:x:${gid}:${f[0]}`,
  };
}

/** /etc/passwd and /etc/group lines for --hostuser names. */
export function hostUserEntries(
  names: string[],
  home: string,
): { passwd: string[]; group: string[] } {
  const all = names.map((n) => entriesFor(n, home));
  return { passwd: all.map((e) => e.passwd), group: all.map((e) => e.group) };
}

/**
 * keep-id: the calling user's entries, with its ids as `uid:gid` inside;
 * with uid= or gid= (`chosen`), Podman's generic "container user" ones.
 */
export function keepIdEntries(
  inside: { uid: number; gid: number },
  home: string,
  chosen = false,
): { passwd: string; group: string } {
  if (!chosen) return entriesFor(String(Deno.uid()), home, inside);
  const { uid, gid } = inside;
  return {
    passwd: `${uid}:*:${uid}:${gid}:container user:${home}:/bin/sh`,
    group: `${gid}:x:${gid}:${uid}`,
  };
}
