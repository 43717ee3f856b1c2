/**
 * Resolves Docker's --user forms (name, uid, uid:gid, name:group) against the
 * container's own /etc/passwd and /etc/group, as read from inside its root.
 */
import { invalid } from "./errors.ts";
import { KEEP_GROUPS } from "./spec.ts";

/** The credentials and home of the container's process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split("\n").flatMap((line) => {
    const f = line.split(":");
    if (f.length < 7) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }];
  });
}

function parseGroup(text: string) {
  return text.split("\n").flatMap((line) => {
    const f = line.split(":");
    if (f.length < 4) return [];
    return [{ name: f[0], gid: Number(f[2]), members: f[3].split(",") }];
  });
}

const isId = (s: string) => /^\d+$/.test(s);

/**
 * Resolves `spec` ("" means root) with the container's passwd and group text.
 * Numeric ids need no entry (Docker's rule); names must exist. `primaryToo`
 * puts a given user's primary group among its groups.
 */
export function resolveUser(
  spec: string,
  passwdText: string,
  groupText: string,
  extraGroups: string[] = [],
  primaryToo = false,
): ResolvedUser {
  const [userPart, groupPart] = spec === ""
    ? ["0", undefined]
    : spec.split(":", 2);
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const entry = isId(userPart)
    ? passwd.find((p) => p.uid === Number(userPart))
    : passwd.find((p) => p.name === userPart);
  if (!entry && !isId(userPart)) {
    throw invalid(
      `unable to find user ${userPart}: no matching entries in passwd file`,
    );
  }
  const uid = entry?.uid ?? Number(userPart);
  const findGroup = (g: string) => {
    if (isId(g)) return Number(g);
    const hit = groups.find((e) => e.name === g);
    if (!hit) {
      throw invalid(
        `unable to find group ${g}: no matching entries in group file`,
      );
    }
    return hit.gid;
  };
  const gid = groupPart !== undefined ? findGroup(groupPart) : entry?.gid ?? 0;
  const supplementary = groupPart === undefined && entry
    ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid)
    : [];
  // As Podman's run (`primaryToo`; not its exec): a user given (-u, the
  // image's USER) has its primary group among its groups too; --group-add
  // of it lists it either way.
  const all = [
    ...new Set([
      ...(primaryToo && spec !== "" ? [gid] : []),
      ...supplementary,
      ...extraGroups.filter((g) => g !== KEEP_GROUPS).map(findGroup),
    ]),
  ];
  return { uid, gid, groups: all, home: entry?.home ?? "/" };
}

/**
 * --passwd-entry: Podman's template with $USERNAME, $UID, $GID, $NAME and
 * $HOME filled in (any other $WORD stays as written).
 */
export function fillPasswdEntry(
  template: string,
  v: { uid: string; gid: string; home: string },
): string {
  const values: Record<string, string> = {
    USERNAME: v.uid,
    UID: v.uid,
    GID: v.gid,
    NAME: "container user",
    HOME: v.home,
  };
  return template.replace(
    /\$(USERNAME|UID|GID|NAME|HOME)/g,
    (_, k: string) => values[k],
  );
}

/**
 * The container's /etc/passwd and /etc/group with the lines Podman adds:
 * `entries` (--hostuser, keep-id's user) whose uid or name is not there
 * yet, and with `numeric` an entry for a numeric --user the file lacks
 * (made from the --passwd-entry template `entry`, if given).
 * Undefined where nothing changes.
 */
export function withUserEntries(
  spec: string,
  text: { passwd: string; group: string },
  add: {
    passwd: string[];
    group: string[];
    numeric: boolean;
    home: string;
    entry?: string;
  },
): { passwd?: string; group?: string } {
  const lines = [...add.passwd];
  const groupLines = [...add.group];
  // A templated line need not have the uid in the third field: it is
  // added when the uid is missing, whatever its own fields say.
  const templated: string[] = [];
  const [user, group = "0"] = spec.split(":", 2);
  if (add.numeric && isId(user) && isId(group)) {
    if (add.entry === undefined) {
      lines.push(
        `${user}:*:${user}:${group}:container user:${add.home}:/bin/sh`,
      );
    } else if (!text.passwd.split("\n").some((l) => l.split(":")[2] === user)) {
      templated.push(
        fillPasswdEntry(add.entry, { uid: user, gid: group, home: add.home }),
      );
    }
    groupLines.push(`${group}:x:${group}:${user}`);
  }
  const append = (
    current: string,
    extra: string[],
    idField: number,
    forced: string[] = [],
  ) => {
    const have = current.split("\n").map((l) => l.split(":"));
    const fresh: string[] = [];
    for (const l of extra) {
      const f = l.split(":");
      if (have.some((h) => h[0] === f[0] || h[idField] === f[idField])) {
        continue;
      }
      have.push(f);
      fresh.push(l);
    }
    fresh.push(...forced);
    if (fresh.length === 0) return undefined;
    const base = current === "" || current.endsWith("\n")
      ? current
      : `${current}\n`;
    return base + fresh.map((l) => `${l}\n`).join("");
  };
  return {
    passwd: append(text.passwd, lines, 2, templated),
    group: append(text.group, groupLines, 2),
  };
}
