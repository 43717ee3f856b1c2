/**
 * Seccomp profiles in Docker's and Podman's JSON format (containers-common's
 * seccomp.json), read and narrowed as containers/common narrows them for one
 * container: to the architectures of this machine (the profile's archMap),
 * and to the rules whose `includes`/`excludes` hold for its bounding
 * capability set, native architecture and kernel.
 */
import { invalid } from "../runtime/errors.ts";

/** An argument comparison of a rule (libseccomp's SCMP_CMP_*). */
export interface ArgRule {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: string;
}

interface Condition {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

/** One entry of the profile's `syscalls`. */
export interface SyscallRule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: ArgRule[] | null;
  includes?: Condition;
  excludes?: Condition;
}

/** A profile as its JSON says. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  syscalls?: SyscallRule[] | null;
  flags?: string[] | null;
}

/** A rule that applies to this container: names, action, conditions. */
export interface ResolvedRule {
  names: string[];
  /** The seccomp return value (action and data). */
  action: number;
  args: ArgRule[];
}

/** A profile narrowed to one container on this machine. */
export interface ResolvedProfile {
  /** SCMP_ARCH_ names, native first. */
  arches: string[];
  defaultAction: number;
  rules: ResolvedRule[];
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
  flags: number;
}

const EPERM = 1;

/**
 * The errno of the default action, whatever the profile's defaultErrnoRet
 * says: Podman 4.3 writes defaultErrnoRet 38 into every container's OCI
 * spec (seen with profiles saying 5 and saying none), so a call the
 * profile does not name, such as one newer than the profile, fails with
 * ENOSYS and glibc falls back to an older call (clone3 to clone).
 */
const DEFAULT_ERRNO = 38;

/** seccomp return values by libseccomp action name, without their data. */
const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

const OPS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
];

/** Go's name of this machine's architecture, as profiles' `arches` say it. */
export const NATIVE_ARCH: Record<string, { go: string; scmp: string }> = {
  x86_64: { go: "amd64", scmp: "SCMP_ARCH_X86_64" },
  aarch64: { go: "arm64", scmp: "SCMP_ARCH_AARCH64" },
};

/**
 * Parses a profile; argument values keep all 64 bits (JSON numbers past
 * 2^53 would not).
 */
export function parseProfile(text: string, file: string): SeccompProfile {
  let p: SeccompProfile;
  try {
    p = JSON.parse(
      text,
      (key, value, ctx?: { source?: string }) =>
        (key === "value" || key === "valueTwo") && ctx?.source !== undefined
          ? BigInt(ctx.source)
          : value,
    );
  } catch (e) {
    const why = (e as Error).message.replace(/\s+/g, " ");
    throw invalid(
      `loading seccomp profile (${file}) failed: decoding seccomp profile failed: ${why}`,
    );
  }
  if (typeof p !== "object" || p === null || !(p.defaultAction in ACTIONS)) {
    throw invalid(
      `loading seccomp profile (${file}) failed: unknown default action ${
        JSON.stringify(p?.defaultAction)
      }`,
    );
  }
  return p;
}

/** The seccomp return value of a libseccomp action name. */
function actionValue(name: string, errnoRet: number | undefined): number {
  const base = ACTIONS[name];
  if (base === undefined) throw invalid(`unknown seccomp action ${name}`);
  if (name === "SCMP_ACT_ERRNO" || name === "SCMP_ACT_TRACE") {
    return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  }
  return base;
}

/** "5.10.0-9-amd64" -> [5, 10]. */
function kernelVersion(release: string): number[] {
  return release.split(/[.-]/).slice(0, 2).map(Number);
}

function atLeast(release: string, min: string): boolean {
  const [a, b] = kernelVersion(release), [x, y] = kernelVersion(min);
  return a > x || (a === x && b >= y);
}

/** Whether containers/common keeps `rule` for this container. */
function applies(
  rule: SyscallRule,
  native: string,
  bounding: Set<string>,
  release: string,
): boolean {
  const ex = rule.excludes ?? {}, inc = rule.includes ?? {};
  if (ex.arches?.includes(native)) return false;
  if (ex.caps?.some((c) => bounding.has(c))) return false;
  if (ex.minKernel && atLeast(release, ex.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes(native)) return false;
  if (inc.caps?.some((c) => !bounding.has(c))) return false;
  if (inc.minKernel && !atLeast(release, inc.minKernel)) return false;
  return true;
}

/** The architectures the filter covers: the profile's, else native only. */
function profileArches(p: SeccompProfile, native: string): string[] {
  if (p.architectures?.length && p.archMap?.length) {
    throw invalid(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  if (p.architectures?.length) {
    return [native, ...p.architectures.filter((a) => a !== native)];
  }
  const entry = p.archMap?.find((m) => m.architecture === native);
  return [native, ...(entry?.subArchitectures ?? [])];
}

/**
 * `p` for a container whose bounding set is `bounding` (CAP_ names) on a
 * machine of architecture `machine` (Deno.build.arch) and kernel `release`.
 */
export function resolveProfile(
  p: SeccompProfile,
  bounding: string[],
  machine: string,
  release: string,
): ResolvedProfile {
  const native = NATIVE_ARCH[machine];
  if (!native) throw invalid(`seccomp: unsupported architecture ${machine}`);
  const caps = new Set(bounding);
  const rules: ResolvedRule[] = [];
  for (const r of p.syscalls ?? []) {
    if (!applies(r, native.go, caps, release)) continue;
    for (const a of r.args ?? []) {
      if (!OPS.includes(a.op) || a.index < 0 || a.index > 5) {
        throw invalid(`seccomp: bad argument rule ${JSON.stringify(a.op)}`);
      }
    }
    rules.push({
      names: r.names ?? (r.name ? [r.name] : []),
      action: actionValue(r.action, r.errnoRet),
      args: (r.args ?? []).map((a) => ({
        index: a.index,
        op: a.op,
        value: BigInt(a.value ?? 0),
        valueTwo: BigInt(a.valueTwo ?? 0),
      })),
    });
  }
  let flags = 0;
  for (const f of p.flags ?? []) {
    if (!(f in FLAGS)) throw invalid(`seccomp: unknown flag ${f}`);
    flags |= FLAGS[f];
  }
  return {
    arches: profileArches(p, native.scmp),
    defaultAction: actionValue(p.defaultAction, DEFAULT_ERRNO),
    rules,
    flags,
  };
}
