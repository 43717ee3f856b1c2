/**
 * Starting a container process: clone the child into its namespaces, write
 * its uid/gid maps, let it exec `ptd init SPEC`. The caller (CLI for a
 * foreground run, monitor otherwise) is its parent and waits for it.
 */
import { cloneExec, environ, exitCode, waitStatus } from "../../ffi/clone.ts";
import {
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from "../../ffi/constants.ts";
import { closeFd, openRaw } from "../../ffi/fd.ts";
import { libc } from "../../ffi/libc.ts";
import { type IdMaps, idMapsFor, writeIdMaps } from "./idmap.ts";
import { type JoinFds, joinFds } from "./netns.ts";
import { lazy } from "./lazy.ts";
import { selfCommand } from "./self.ts";
import type { RuntimeSpec } from "./spec.ts";
import { trace } from "./trace.ts";

let maps: IdMaps | undefined;
let warned = false;

/** The calling user's maps, with a one-line warning when there is no range. */
export function userMaps(): IdMaps {
  maps ??= idMapsFor(Deno.uid()!, Deno.gid()!);
  if (maps.single && !warned) {
    warned = true;
    console.error(
      "WARN: no /etc/subuid or /etc/subgid range for this user; using a single-id mapping (run `ptd doctor`)",
    );
  }
  return maps;
}

/**
 * Namespace flags for a spec. A joined network namespace is entered, not
 * made; and a container that enters the user namespace owning it lives in
 * that one, whose maps exist already.
 */
export function cloneFlags(spec: RuntimeSpec, joinsUser = false): number {
  // No cgroup namespace here: it would be rooted at the parent's cgroup,
  // before the child is moved into its own (init makes it).
  let flags = CLONE_NEWNS;
  if (spec.pid !== "host" && spec.joinPid === undefined) flags |= CLONE_NEWPID;
  if (spec.uts !== "host" && spec.joinUts === undefined) flags |= CLONE_NEWUTS;
  if (spec.ipc !== "host" && spec.joinIpc === undefined) flags |= CLONE_NEWIPC;
  if (spec.rootless && !joinsUser) flags |= CLONE_NEWUSER;
  if (spec.privateNetwork && spec.joinNetns === undefined) {
    flags |= CLONE_NEWNET;
  }
  return flags;
}

/** The namespaces `spec` joins besides a user namespace, as paths. */
function joinedPaths(spec: RuntimeSpec): (string | undefined)[] {
  return [spec.joinNetns, spec.joinIpc, spec.joinUts, spec.joinPid];
}

/** Opens the namespaces to enter for `spec.joinNetns` and the like, if any. */
function joinFor(spec: RuntimeSpec): JoinFds | undefined {
  if (spec.joinUserns !== undefined) {
    return { fds: [openRaw(spec.joinUserns)], user: true };
  }
  if (joinedPaths(spec).every((p) => p === undefined)) return;
  return joinFds(spec.joinNetns, spec.joinIpc, {
    uts: spec.joinUts,
    pid: spec.joinPid,
  });
}

/**
 * Whether the container's namespace leaves the user out: it then reaches
 * the user's files only where reach.ts opens the way.
 */
function leavesUserOut(spec: RuntimeSpec): boolean {
  const uid = Deno.uid()!;
  return spec.idMaps !== undefined &&
    !spec.idMaps.uid.some((r) => uid >= r.host && uid < r.host + r.size);
}

/**
 * Writes the spec and starts `ptd init` in new namespaces; returns its pid.
 * `beforeRelease` runs once the namespaces and maps exist but before init
 * runs (the network is attached there, so the command starts with it); if
 * it throws, the child is reaped. Descriptors the parent leaves inheritable
 * are inherited by whatever the hook spawns.
 */
export async function startInit(
  spec: RuntimeSpec,
  specPath: string,
  beforeRelease?: (pid: number) => Promise<void>,
): Promise<number> {
  Deno.writeTextFileSync(specPath, JSON.stringify(spec));
  const self = selfCommand();
  if (leavesUserOut(spec)) {
    (await lazy<typeof import("./reach.ts")>(
      "src/runtime/reach.ts",
    )).openPaths(spec, specPath, [self.path]);
  }
  const join = joinFor(spec);
  const newUser = spec.rootless && !join?.user;
  trace("clone");
  let child;
  try {
    child = await cloneExec({
      flags: cloneFlags(spec, join?.user),
      path: self.path,
      argv: [self.path, ...self.args, "init", specPath],
      env: environ(),
      join: join?.fds,
    });
  } catch (e) {
    if (!join) throw e;
    throw new Error(
      `cannot join namespace ${
        spec.joinUserns ?? joinedPaths(spec).find((p) => p !== undefined)
      }: ${(e as Error).message}`,
    );
  } finally {
    for (const fd of join?.fds ?? []) closeFd(fd);
  }
  try {
    if (newUser) {
      await writeIdMaps(
        child.pid,
        spec.idMaps ? { ...spec.idMaps, single: false } : userMaps(),
      );
    }
    await beforeRelease?.(child.pid);
  } catch (e) {
    child.abort();
    await waitStatus(child.pid);
    throw e;
  }
  child.release();
  trace("released");
  return child.pid;
}

/** Waits for the container's first process; returns the shell-style code. */
export async function waitExit(pid: number): Promise<number> {
  return exitCode(await waitStatus(pid));
}

/** Sends a signal to a process; false when it is already gone. */
export function signalProcess(pid: number, sig: number): boolean {
  return libc().kill(pid, sig) === 0;
}
