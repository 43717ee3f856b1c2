/**
 * `cp` and `export` from the host side, through the store: nothing runs in
 * the container, so its image needs no `tar`, and a stopped container is
 * copied like a running one. The container's side is a helper (`ptd
 * storage-cp`) that runs as root of a user namespace with the user's maps,
 * so every owner of the container's files can be read and written, and
 * that resolves every path inside the container's root (cp_tree.ts): the
 * root of a running container is its /proc/PID/root, opened here (we own
 * its user namespace's parent) and handed down; a stopped container's is
 * its overlay (layers under its upper dir), mounted by the helper in a
 * mount namespace of its own. The two sides speak tar through a pipe.
 */
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { CLONE_NEWNS, MNT_DETACH } from "../../ffi/constants.ts";
import { SysError } from "../../ffi/errno.ts";
import {
  closeFd,
  inheritablePipe,
  openRaw,
  pipeFromChild,
  readerGone,
  setCloexec,
  setInheritable,
} from "../../ffi/fd.ts";
import * as fs from "../../ffi/fs.ts";
import { RealSyscalls } from "../../ffi/syscalls.ts";
import {
  asPtdError,
  errorFromJson,
  invalid,
  PtdError,
  writeErrorReport,
} from "../runtime/errors.ts";
import { overlayData } from "../runtime/rootfs.ts";
import type { OverlayRootfs } from "../runtime/spec.ts";
import { runInUserNamespace, runInUserNamespaceOf } from "../runtime/userns.ts";
import type { ContainerConfig } from "./config.ts";
import { type ByteSink, landTree, packTree, writeAll } from "./cp_tree.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";

/** The hidden subcommand of the container's side. */
export const CP_COMMAND = "storage-cp";

const ROOT_OWNER = { uid: 0, gid: 0 };

/** The container's root as the helper gets it: an fd, a vfs copy, or its overlay. */
export type RootSpec =
  | { fd: number }
  | { copy: string }
  | { overlay: Omit<OverlayRootfs, "merged"> };

/**
 * A root fd in a helper (root of a user namespace, with a mount namespace
 * of its own for an overlay), and how to let it go.
 */
export function openRoot(spec: RootSpec): { fd: number; release(): void } {
  const fdOf = (fd: number) => ({ fd, release: () => fs.close(fd) });
  if ("fd" in spec) return fdOf(spec.fd);
  if ("copy" in spec) {
    return fdOf(fs.openat(fs.AT_FDCWD, spec.copy, fs.O_PATH | fs.O_DIRECTORY));
  }
  const merged = Deno.makeTempDirSync({ prefix: "ptd-cp-" });
  const sys = new RealSyscalls();
  const r = { ...spec.overlay, merged };
  try {
    sys.mount("overlay", merged, "overlay", 0, overlayData(r, true));
  } catch (e) {
    Deno.removeSync(merged);
    // A lower dir with submounts (--rootfs /) takes fuse-overlayfs, which
    // would look up its own mount point through "/" and hang.
    if (e instanceof SysError && e.code === "EINVAL") {
      throw invalid(
        "this container's root has mounts below it (--rootfs /): copy while it runs",
      );
    }
    throw e;
  }
  const fd = fs.openat(fs.AT_FDCWD, merged, fs.O_PATH | fs.O_DIRECTORY);
  return {
    fd,
    release() {
      fs.close(fd);
      try {
        sys.umount(merged, MNT_DETACH);
        Deno.removeSync(merged);
      } catch { /* the namespace goes with us anyway */ }
    },
  };
}

/** Opens an inherited raw fd through Deno. */
function inherited(fd: number, write: boolean): Deno.FsFile {
  const f = Deno.openSync(`/proc/self/fd/${fd}`, { read: !write, write });
  closeFd(fd);
  return f;
}

/**
 * Entry of `ptd storage-cp MODE ROOTSPEC WHERE PATH DATAFD ERRFD [OWNER]`
 * in the user namespace: MODE "out" writes the tar of PATH to DATAFD
 * ("export": all of the root, as `export` has it), "in" lands the tar read
 * from DATAFD at PATH, every entry owned by OWNER ("UID:GID") when given,
 * else as the tar has it (a tar from stdin, into PATH, a directory). A
 * failure is reported on ERRFD as
 * an error's JSON.
 */
export async function cpMain(args: string[]): Promise<number> {
  const [mode, spec, where, path, dataFd, errFd, owner] = args;
  const err = inherited(Number(errFd), true);
  let root: { fd: number; release(): void } | undefined;
  try {
    root = openRoot(JSON.parse(spec));
    const data = inherited(Number(dataFd), mode !== "in");
    try {
      if (mode !== "in") {
        await packTree(root.fd, path, data, {
          where,
          whole: mode === "export",
        });
      } else {
        await landTree(
          Readable.fromWeb(data.readable as never),
          root.fd,
          path,
          {
            userns: true,
            owner: owner === undefined ? "keep" : {
              uid: Number(owner.split(":")[0]),
              gid: Number(owner.split(":")[1]),
            },
            stdin: owner === undefined,
            where,
          },
        );
      }
    } finally {
      try {
        data.close();
      } catch { /* closed by its stream */ }
    }
    return 0;
  } catch (e) {
    writeErrorReport(err, e);
    return 1;
  } finally {
    root?.release();
    err.close();
  }
}

/**
 * How the helper reaches `c`'s root: a running container's live root (an
 * fd of /proc/PID/root) from inside its own user namespace, else its
 * overlay, mounted in a user and mount namespace of the helper's own.
 */
function rootSpec(store: ContainerStore, c: ContainerConfig): {
  spec: RootSpec;
  run: (args: string[]) => Promise<number>;
  fd?: number;
} {
  const s = store.state(c.id);
  if (s.status === "running" && s.pid > 0) {
    try {
      const fd = openRaw(`/proc/${s.pid}/root`, "path");
      setInheritable(fd);
      return {
        spec: { fd },
        run: (args) => runInUserNamespaceOf(s.pid, args),
        fd,
      };
    } catch { /* gone meanwhile: it is stopped */ }
  }
  const dir = store.dir(c.id);
  return {
    spec: c.storageDriver === "vfs" ? { copy: vfsRoot(store, c) } : {
      overlay: { lower: c.layers, upper: `${dir}/upper`, work: `${dir}/work` },
    },
    run: (args) => runInUserNamespace(args, CLONE_NEWNS),
  };
}

/**
 * Runs the container's side of a copy; `dataFd` is the child's end of the
 * tar pipe (closed here once the helper has it), `io` moves the tar on our
 * side while the helper runs.
 */
async function helper(
  store: ContainerStore,
  c: ContainerConfig,
  args: {
    mode: "out" | "in" | "export";
    path: string;
    /** Lands every entry as this owner; none: a tar from stdin. */
    owner?: { uid: number; gid: number };
  },
  dataFd: number,
  io: () => Promise<void>,
): Promise<void> {
  const root = rootSpec(store, c);
  const err = pipeFromChild();
  if (root.fd !== undefined) {
    // The helper reopens its pipe ends as the container's root, which
    // may not be the user (--userns nomap): the pipes must let it.
    for (const fd of [dataFd, err.write]) fs.fchmod(fd, 0o666);
  }
  const exit = root.run([
    CP_COMMAND,
    args.mode,
    JSON.stringify(root.spec),
    `container ${c.name}`,
    args.path,
    String(dataFd),
    String(err.write),
    ...(args.owner ? [`${args.owner.uid}:${args.owner.gid}`] : []),
  ]);
  // The helper was cloned before `run` first awaited: it has its copies.
  for (const fd of [dataFd, err.write, root.fd]) {
    if (fd !== undefined) closeFd(fd);
  }
  const moved = io().then(() => undefined, (e) => e);
  const code = await exit;
  const report = await new Response(err.file.readable).text();
  const ioError = await moved;
  // Our side's refusal, or our stdout's reader gone, comes first: the
  // helper only saw the pipe close.
  if (ioError instanceof PtdError || (ioError && readerGone(1))) {
    throw ioError;
  }
  if (code !== 0) {
    throw errorFromJson(report || `cp helper exited with ${code}`);
  }
  if (ioError) throw asPtdError(ioError);
}

/** A raw pipe: our end as a Deno file, the child's end raw. */
function pipe(ourEnd: "read" | "write"): { file: Deno.FsFile; child: number } {
  const [r, w] = inheritablePipe();
  const [ours, theirs] = ourEnd === "read" ? [r, w] : [w, r];
  setCloexec(ours);
  return { file: inherited(ours, ourEnd === "write"), child: theirs };
}

function closeQuietly(f: Deno.FsFile): void {
  try {
    f.close();
  } catch { /* closed by its stream already */ }
}

const hostRoot = () => fs.openat(fs.AT_FDCWD, "/", fs.O_PATH | fs.O_DIRECTORY);

/** An absolute host path, a trailing slash (or "/.") kept. */
function hostPath(p: string): string {
  const abs = resolve(p);
  if (/\/\.$/.test(p)) return `${abs}/.`;
  return p.endsWith("/") && abs !== "/" ? `${abs}/` : abs;
}

/**
 * Copies `src` out of the container to the host path `dest`, or as a tar
 * to stdout when `dest` is "-".
 */
export async function copyFromContainer(
  store: ContainerStore,
  c: ContainerConfig,
  src: string,
  dest: string,
): Promise<void> {
  if (dest === "-") return await tarFrom(store, c, "out", src, Deno.stdout);
  const p = pipe("read");
  await helper(store, c, { mode: "out", path: src }, p.child, async () => {
    // Our failure closes the pipe, so the helper cannot wait on it forever.
    using _ = { [Symbol.dispose]: () => closeQuietly(p.file) };
    const root = hostRoot();
    try {
      await landTree(
        Readable.fromWeb(p.file.readable as never),
        root,
        hostPath(dest),
        {
          userns: false,
          owner: Deno.uid() === 0 ? "keep" : "skip",
          stdin: false,
          where: "the host",
          shown: dest,
        },
      );
    } finally {
      fs.close(root);
    }
  });
}

/**
 * The owner of what `cp` puts in `c`: with `archive` (--archive, the
 * default) its primary user and group when they are numeric, else (and
 * with --archive=false, as Podman) its root.
 */
function landedOwner(
  c: ContainerConfig,
  archive: boolean,
): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(c.user);
  return m && archive
    ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) }
    : ROOT_OWNER;
}

/**
 * Copies the host path `src` into the container at `dest`, owned as
 * `landedOwner` says; `src` "-" is a tar on stdin, landed with its owners.
 */
export async function copyToContainer(
  store: ContainerStore,
  c: ContainerConfig,
  src: string,
  dest: string,
  archive = true,
): Promise<void> {
  if (src === "-") return await tarInto(store, c, dest, Deno.stdin.readable);
  const p = pipe("write");
  const sink: ByteSink = p.file;
  await helper(
    store,
    c,
    { mode: "in", path: dest, owner: landedOwner(c, archive) },
    p.child,
    async () => {
      const root = hostRoot();
      try {
        await packTree(root, hostPath(src), sink, { where: "the host" });
      } finally {
        fs.close(root);
        p.file.close();
      }
    },
  );
}

/**
 * Copies `src` of the container `from` to `dest` in the container `to`:
 * one helper writes the tar, the other lands it, through a pipe between
 * them.
 */
export async function copyBetweenContainers(
  store: ContainerStore,
  from: ContainerConfig,
  src: string,
  to: ContainerConfig,
  dest: string,
  archive = true,
): Promise<void> {
  const [r, w] = inheritablePipe();
  // The writer must not hold the read end: it would never see the lander
  // go. Each helper is cloned before `helper` returns its promise.
  setCloexec(r);
  const out = helper(store, from, { mode: "out", path: src }, w, noIo);
  setInheritable(r);
  const into = helper(
    store,
    to,
    { mode: "in", path: dest, owner: landedOwner(to, archive) },
    r,
    noIo,
  );
  const [a, b] = await Promise.allSettled([out, into]);
  // The lander's refusal says more than the writer's broken pipe.
  if (b.status === "rejected") throw b.reason;
  if (a.status === "rejected") throw a.reason;
}

const noIo = () => Promise.resolve();

/** The merged file system of the container as a tar, to `out`. */
export async function exportContainer(
  store: ContainerStore,
  c: ContainerConfig,
  out: ByteSink,
): Promise<void> {
  await tarFrom(store, c, "export", "/", out);
}

/**
 * The tar of `path` in the container (mode "out"; `cp CTR:PATH -`, the
 * REST API's archive GET) or of all of it ("export"), to `out`.
 */
export async function tarFrom(
  store: ContainerStore,
  c: ContainerConfig,
  mode: "out" | "export",
  path: string,
  out: ByteSink,
): Promise<void> {
  const p = pipe("read");
  await helper(store, c, { mode, path }, p.child, async () => {
    // Our failure closes the pipe, so the helper cannot wait on it forever.
    using _ = { [Symbol.dispose]: () => closeQuietly(p.file) };
    await copyChunks(p.file.readable, out);
  });
}

/**
 * Lands the tar `chunks` carry in the container's directory `dest`, each
 * entry with the owner the tar gives it (`cp - CTR:DEST`, the REST API's
 * archive PUT).
 */
export async function tarInto(
  store: ContainerStore,
  c: ContainerConfig,
  dest: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const p = pipe("write");
  await helper(store, c, { mode: "in", path: dest }, p.child, async () => {
    try {
      await copyChunks(chunks, p.file);
    } finally {
      closeQuietly(p.file);
    }
  });
}

async function copyChunks(chunks: AsyncIterable<Uint8Array>, out: ByteSink) {
  for await (const chunk of chunks) await writeAll(out, chunk);
}
