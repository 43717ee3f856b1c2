/** Linux capabilities by name, Docker's default set, and --cap-add/--cap-drop. */
import { invalid } from "./errors.ts";

const NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
];

/** Docker's default capability set (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Every capability ptd knows, as CAP_ names. */
export const ALL_CAPS = NAMES.map((n) => `CAP_${n}`);

/** "net_admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; throws on unknown names. */
export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  const full = up.startsWith("CAP_") ? up : `CAP_${up}`;
  if (full !== "CAP_ALL" && !ALL_CAPS.includes(full)) {
    throw invalid(`unknown capability ${JSON.stringify(name)}`);
  }
  return full;
}

/** The bit number of a CAP_ name. */
export function capNumber(name: string): number {
  return NAMES.indexOf(name.replace(/^CAP_/, ""));
}

/** The effective set from Docker's rules: defaults, then drops, then adds. */
export function resolveCaps(
  add: string[],
  drop: string[],
  privileged: boolean,
): string[] {
  if (privileged) return [...ALL_CAPS];
  const adds = add.map(normalizeCap), drops = drop.map(normalizeCap);
  let set = drops.includes("CAP_ALL")
    ? []
    : DEFAULT_CAPS.filter((c) => !drops.includes(c));
  if (adds.includes("CAP_ALL")) set = [...ALL_CAPS];
  for (const c of adds) if (c !== "CAP_ALL" && !set.includes(c)) set.push(c);
  return set;
}
