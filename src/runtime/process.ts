/**
 * The last steps of `ptd init`: find the executable, drop to the container's
 * credentials and capabilities, and execve. Errors carry Docker's exit codes:
 * 127 when the command does not exist, 126 when it cannot be run.
 */
import type { Syscalls } from "../../ffi/syscalls.ts";
import { SysError } from "../../ffi/errno.ts";
import { SIGKILL } from "../../ffi/constants.ts";
import { capNumber } from "./caps.ts";
import { PtdError } from "./errors.ts";
import { KEEP_GROUPS, type ProcessSpec } from "./spec.ts";
import type { ResolvedUser } from "./user.ts";

/** The execution domains the OCI spec names, as personality(2) numbers. */
export const PERSONALITIES: Record<string, number> = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
};

/** Looks for the file system facts lookPath needs. */
export interface PathProbe {
  /** "file" (with its mode), "dir", or undefined when nothing is there. */
  stat(path: string): { kind: "file" | "dir"; mode: number } | undefined;
}

/** The real probe: stat inside the current root. */
export const realProbe: PathProbe = {
  stat(path) {
    try {
      const s = Deno.statSync(path);
      return { kind: s.isDirectory ? "dir" : "file", mode: s.mode ?? 0 };
    } catch {
      return undefined;
    }
  },
};

/** The PATH value of an environment list, or Docker's default. */
export function envPath(env: string[]): string {
  const hit = env.find((e) => e.startsWith("PATH="));
  return hit ? hit.slice(5) : DEFAULT_PATH;
}

/** Docker's default PATH inside a container. */
export const DEFAULT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Resolves a command like execvp would, with Docker's error texts and codes. */
export function lookPath(cmd: string, env: string[], probe: PathProbe): string {
  const check = (p: string) => {
    const s = probe.stat(p);
    if (!s) return undefined;
    if (s.kind === "dir" || (s.mode & 0o111) === 0) {
      throw new PtdError("cannot-invoke", `${cmd}: permission denied`);
    }
    return p;
  };
  if (cmd.includes("/")) {
    const hit = check(cmd);
    if (!hit) {
      throw new PtdError(
        "command-not-found",
        `${cmd}: no such file or directory`,
      );
    }
    return hit;
  }
  let denied: PtdError | undefined;
  for (const dir of envPath(env).split(":")) {
    try {
      const hit = check(`${dir || "."}/${cmd}`);
      if (hit) return hit;
    } catch (e) {
      denied ??= e as PtdError;
    }
  }
  if (denied) throw denied;
  throw new PtdError(
    "command-not-found",
    `${cmd}: executable file not found in $PATH`,
  );
}

/**
 * The container's environment with HOSTNAME and HOME filled in, Docker's
 * way; PATH is the container's own (its defaults have one unless unset).
 */
export function containerEnv(
  env: string[],
  user: ResolvedUser,
  hostname: string,
): string[] {
  const out = [...env];
  const has = (k: string) => out.some((e) => e.startsWith(`${k}=`));
  if (!has("HOME")) out.push(`HOME=${user.home}`);
  if (!has("HOSTNAME")) out.push(`HOSTNAME=${hostname}`);
  return out;
}

/**
 * Drops to the container's user and capability sets, as Podman computes
 * them: the bounding set is the container's; root keeps it as effective and
 * permitted; another user keeps only what --cap-add gave, in every set
 * including the ambient one (which carries it across execve). Inheritable
 * stays empty otherwise (CVE-2022-27651). Still able to execve.
 */
export function applyCredentials(
  sys: Syscalls,
  proc: ProcessSpec,
  user: ResolvedUser,
  lastCap: number,
) {
  const keep = new Set(proc.capabilities.map(capNumber));
  for (let c = 0; c <= lastCap; c++) if (!keep.has(c)) sys.dropBoundingCap(c);
  sys.setKeepCaps(true);
  if (!proc.groups.includes(KEEP_GROUPS)) sys.setgroups(user.groups);
  sys.setresgid(user.gid);
  sys.setresuid(user.uid);
  sys.setKeepCaps(false);
  if (user.uid === 0) {
    sys.capset([...keep], []);
  } else {
    const own = (proc.userCapabilities ?? []).map(capNumber)
      .filter((c) => keep.has(c));
    sys.capset(own, own);
    for (const c of own) sys.raiseAmbient(c);
  }
  if (proc.noNewPrivileges) sys.noNewPrivs();
}

/**
 * Loads the container's seccomp program: base64 of 4 bytes of seccomp(2)
 * flags, then the filter (written by src/security/compile.ts).
 */
function loadSeccomp(sys: Syscalls, program: string) {
  const bytes = Uint8Array.fromBase64(program);
  const flags = new DataView(bytes.buffer).getUint32(0, true);
  sys.seccomp(bytes.subarray(4), flags);
}

/** Maps an execve failure to Docker's exit codes: ENOENT 127, else 126. */
export function execFailure(cmd: string, e: SysError): PtdError {
  const kind = e.code === "ENOENT" ? "command-not-found" : "cannot-invoke";
  return new PtdError(kind, `${cmd}: ${e.message}`);
}

/**
 * --ulimit, before the user changes: a rootless container may lower a hard
 * limit, never raise it past its own (Podman's error then, exit 126).
 */
function setLimits(sys: Syscalls, limits: [number, number, number][]) {
  for (const [resource, soft, hard] of limits) {
    try {
      sys.setrlimit(resource, soft, hard);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      throw new PtdError(
        "cannot-invoke",
        `error setting rlimits for ready process: error setting rlimit type ${resource}: ${
          e.message.replace(/^.*\((.*)\)$/, "$1").toLowerCase()
        }`,
      );
    }
  }
}

/** Sets stdin, resolves and execs the command. Returns only by throwing. */
export function execProcess(
  sys: Syscalls,
  proc: ProcessSpec,
  user: ResolvedUser,
  env: string[],
  probe: PathProbe,
  dieWithParent: boolean,
  lastCap: number,
): never {
  if (!proc.stdin) sys.dupTo(sys.openRead("/dev/null"), 0);
  const path = lookPath(proc.args[0], env, probe);
  sys.umask(proc.umask ?? 0o022);
  if (proc.personality !== undefined) {
    sys.personality(PERSONALITIES[proc.personality]);
  }
  setLimits(sys, proc.rlimits ?? []);
  // Loading a filter takes CAP_SYS_ADMIN or no_new_privs: without the
  // latter it goes before the credentials drop it (as runc does), with it
  // as late as can be, so that the filter sees nothing of ptd's own work.
  const early = proc.seccomp !== undefined && !proc.noNewPrivileges;
  if (early) loadSeccomp(sys, proc.seccomp!);
  applyCredentials(sys, proc, user, lastCap);
  if (dieWithParent) sys.parentDeathSignal(SIGKILL);
  sys.resetForExec(proc.preserveFds);
  if (proc.seccomp !== undefined && !early) loadSeccomp(sys, proc.seccomp);
  try {
    return sys.execve(path, proc.args, env);
  } catch (e) {
    throw e instanceof SysError ? execFailure(proc.args[0], e) : e;
  }
}
