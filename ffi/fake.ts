/**
 * A recording Syscalls: every call is appended to `calls` instead of reaching
 * the kernel, and a small in-memory file tree answers exists/isDirectory. Unit
 * tests assert the exact sequence init would perform (youki's test.rs idea).
 */
import type { Syscalls } from "./syscalls.ts";

/** One recorded call: its name and arguments. */
export interface Call {
  name: string;
  args: unknown[];
}

/** Thrown by the fake's execve, so a test can observe the end of init. */
export class FakeExec extends Error {
  constructor(
    readonly path: string,
    readonly argv: string[],
    readonly env: string[],
  ) {
    super(`execve ${path}`);
  }
}

/** The recording fake. Seed `files` and `dirs` with what should exist. */
export class RecordingSyscalls implements Syscalls {
  calls: Call[] = [];
  files = new Set<string>();
  dirs = new Set<string>(["/"]);
  private nextFd = 10;
  /** Rules that make a call fail: return an error to throw it instead. */
  failures: ((call: Call) => Error | undefined)[] = [];

  private rec(name: string, ...args: unknown[]) {
    const call = { name, args };
    for (const rule of this.failures) {
      const e = rule(call);
      if (e) throw e;
    }
    this.calls.push(call);
  }
  /** The recorded calls as compact strings, e.g. `mount proc /proc proc 14`. */
  trace(): string[] {
    return this.calls.map((c) =>
      [c.name, ...c.args.map((a) => Array.isArray(a) ? `[${a}]` : String(a))]
        .join(" ")
    );
  }

  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null = null,
  ) {
    this.rec("mount", source, target, fstype, flags, data);
  }
  umount(target: string, flags: number) {
    this.rec("umount", target, flags);
  }
  pivotRoot(newRoot: string, putOld: string) {
    this.rec("pivot_root", newRoot, putOld);
  }
  /** What getcwd answers; chdir sets it (a test may spoil it after). */
  cwd = "/";
  chdir(path: string) {
    this.rec("chdir", path);
    this.cwd = path;
  }
  getcwd() {
    return this.cwd;
  }
  sethostname(name: string) {
    this.rec("sethostname", name);
  }
  unshareCgroup() {
    this.rec("unshare_cgroup");
  }
  openPath(path: string) {
    this.rec("open_path", path);
    return this.nextFd++;
  }
  close(fd: number) {
    this.rec("close", fd);
  }
  exists(path: string) {
    return this.files.has(path) || this.dirs.has(path);
  }
  isDirectory(path: string) {
    return this.dirs.has(path);
  }
  mkdirAll(path: string, mode: number) {
    this.rec("mkdir", path, mode.toString(8));
    this.dirs.add(path);
  }
  ensureFile(path: string) {
    if (this.exists(path)) return;
    this.rec("touch", path);
    this.files.add(path);
  }
  writeFile(path: string, text: string) {
    this.rec("write", path, text);
  }
  symlink(target: string, path: string) {
    this.rec("symlink", target, path);
    this.files.add(path);
  }
  linkUp(name: string) {
    this.rec("link_up", name);
  }
  openFuse() {
    this.rec("open_fuse");
    return this.nextFd++;
  }
  dropBoundingCap(cap: number) {
    this.rec("capbset_drop", cap);
  }
  setKeepCaps(on: boolean) {
    this.rec("keepcaps", on);
  }
  setgroups(gids: number[]) {
    this.rec("setgroups", gids);
  }
  setresgid(gid: number) {
    this.rec("setresgid", gid);
  }
  setresuid(uid: number) {
    this.rec("setresuid", uid);
  }
  capset(caps: number[], inheritable: number[]) {
    this.rec("capset", caps, inheritable);
  }
  raiseAmbient(cap: number) {
    this.rec("ambient_raise", cap);
  }
  seccomp(filter: Uint8Array, flags: number) {
    this.rec("seccomp", filter.length / 8, flags);
  }
  noNewPrivs() {
    this.rec("no_new_privs");
  }
  setrlimit(resource: number, soft: number, hard: number) {
    this.rec("setrlimit", resource, soft, hard);
  }
  parentDeathSignal(sig: number) {
    this.rec("pdeathsig", sig);
  }
  cloneTree(path: string) {
    this.rec("open_tree", path);
    return this.nextFd++;
  }
  attachTree(fd: number, target: string) {
    this.rec("move_mount", fd, target);
  }
  setOwner(path: string, uid: number, gid: number, mode: number) {
    this.rec("set_owner", path, uid, gid, mode);
  }
  umask(mask: number) {
    this.rec("umask", mask);
  }
  personality(persona: number) {
    this.rec("personality", persona);
  }
  resetForExec(keep = 0) {
    this.rec("reset_for_exec", ...(keep ? [keep] : []));
  }
  dupTo(fd: number, target: number) {
    this.rec("dup2", fd, target);
  }
  openConsole(size?: [number, number]) {
    this.rec("open_console", ...(size ?? []));
    const master = this.nextFd++;
    return { master, slave: this.nextFd++, path: "/dev/pts/0" };
  }
  sendFd(sock: number, fd: number) {
    this.rec("send_fd", sock, fd);
  }
  takeTerminal(fd: number) {
    this.rec("take_terminal", fd);
  }
  openRead(path: string) {
    this.rec("open_read", path);
    return this.nextFd++;
  }
  execve(path: string, argv: string[], env: string[]): never {
    this.rec("execve", path, argv);
    throw new FakeExec(path, argv, env);
  }
}
