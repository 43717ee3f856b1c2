/**
 * Unpacking a layer into the directory the overlay mounts as one lowerdir,
 * from its blob's bytes as they arrive: they are decompressed once, hashed
 * for the diff id and written out in the same pass, so a pull unpacks while
 * it downloads. The entries themselves are written by layer_writer.ts,
 * which treats every name as hostile.
 *
 * Rootless, the unpacking runs in a helper (`ptd storage-unpack`) as root of
 * a user namespace with the user's subordinate ids, so chown to the image's
 * owners works; the blob's bytes reach it through a pipe. As real root it
 * runs in-process. Either way it goes into a temporary sibling directory,
 * renamed into place only when the caller has verified the blob's digest
 * and the diff id: a failure or a crash never leaves a half layer (or an
 * unverified one) under the final name.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { dirname, resolve } from "node:path";
import { PassThrough, type Readable, Transform } from "node:stream";
import zlib from "node:zlib";
import {
  closeFd,
  inheritablePipe,
  pipeFromChild,
  setCloexec,
} from "../../ffi/fd.ts";
import * as fs from "../../ffi/fs.ts";
import { libc } from "../../ffi/libc.ts";
import { trace } from "../runtime/trace.ts";
import { runInUserNamespace } from "../runtime/userns.ts";
import { writeAll } from "../storage/blobs.ts";
import { concatBytes } from "@noble/hashes/utils.js";
import { LayerError, writeLayer } from "./layer_writer.ts";

/** The hidden subcommand that unpacks a layer inside the user namespace. */
export const UNPACK_COMMAND = "storage-unpack";

/**
 * Bytes per decompressed chunk and per pipe read: big enough that a typical
 * file is one write, and the streams' per-chunk costs stay small.
 */
const CHUNK = 256 * 1024;
const F_SETPIPE_SZ = 1031;
const FS_IOC_GETFLAGS = 0x80086601n;
const FS_IOC_SETFLAGS = 0x40086602n;
const FS_TOPDIR_FL = 0x00020000;

type Compression = "gzip" | "zstd" | "none";

function compressionOf(head: Uint8Array): Compression {
  const is = (magic: number[]) => magic.every((b, i) => head[i] === b);
  if (is([0x1f, 0x8b])) return "gzip";
  if (is([0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  return "none";
}

/** The first `n` bytes of a file, where the magic numbers are. */
export function fileHead(path: string, n = 4): Uint8Array {
  const head = new Uint8Array(n);
  const f = Deno.openSync(path);
  try {
    f.readSync(head);
  } finally {
    f.close();
  }
  return head;
}

/** A blob's compression, from its magic bytes. */
export function sniffCompression(path: string): Compression {
  return compressionOf(fileHead(path));
}

/**
 * The compression of a layer whose first bytes are `head`. The magic bytes
 * decide (Docker archives label gzip layers as plain tar), but a media type
 * that promises compression must not be contradicted.
 */
function layerCompression(head: Uint8Array, mediaType: string): Compression {
  const compression = compressionOf(head);
  if (compression === "none" && /gzip|zstd/.test(mediaType)) {
    throw new Error(
      `layer is not compressed as its media type ${mediaType} says`,
    );
  }
  return compression;
}

function decompressor(compression: Compression): Transform {
  switch (compression) {
    case "gzip":
      return zlib.createGunzip({ chunkSize: CHUNK });
    case "zstd":
      return zlib.createZstdDecompress({ chunkSize: CHUNK });
    default:
      return new PassThrough({ highWaterMark: CHUNK });
  }
}

/** A layer blob's uncompressed tar stream. */
export function layerTar(blobPath: string, mediaType: string): Readable {
  const unzip = decompressor(layerCompression(fileHead(blobPath), mediaType));
  const raw = createReadStream(blobPath, { highWaterMark: CHUNK });
  raw.on("error", (e) => unzip.destroy(e));
  return raw.pipe(unzip);
}

/**
 * The diff id of a layer blob (the sha256 of its uncompressed tar) and the
 * size of that tar.
 */
export async function diffIdOf(
  blobPath: string,
  mediaType: string,
): Promise<{ diffId: string; size: number }> {
  const sink = layerSink(mediaType, undefined, blobPath);
  await feedFile(blobPath, sink);
  const diffId = await sink.end();
  return { diffId, size: sink.size };
}

/**
 * Where a layer blob's bytes go: decompressed, hashed and, with a
 * destination, unpacked into a temporary directory. Feeding never fails on a
 * broken layer: the rest is drained, so the caller still checks the blob's
 * own digest, and the layer's error comes from `end`.
 */
export interface LayerSink {
  /** Takes the next bytes of the blob; resolves when there is room again. */
  write(chunk: Uint8Array): Promise<void>;
  /** The blob is complete: resolves to the diff id once all is written. */
  end(): Promise<string>;
  /** Bytes of the uncompressed tar, all of them once `end` resolved. */
  readonly size: number;
  /** Moves the verified layer to its final name (after `end`). */
  commit(): Promise<void>;
  /** Throws the unpacked content away; fine at any point, and after errors. */
  abort(): Promise<void>;
}

/** A one-line message of any error. */
function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

// The umask is per process: layers unpacked at once share one zero umask.
let umaskUsers = 0;
let savedUmask = 0;

/** Makes modes from the archive land as they are until the release. */
function zeroUmask(): () => void {
  if (umaskUsers++ === 0) savedUmask = libc().umask(0);
  let held = true;
  return () => {
    if (held && --umaskUsers === 0) libc().umask(savedUmask);
    held = false;
  };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Renames a finished temp dir to `dest`; a concurrent twin may have won. */
function moveIntoPlace(tmp: string, dest: string): void {
  try {
    Deno.renameSync(tmp, dest);
  } catch (e) {
    Deno.removeSync(tmp, { recursive: true });
    // A concurrent unpack of the same content won the race: same result.
    if (!exists(dest)) throw e;
  }
}

/**
 * Where a layer's plain tar goes once decoded: nowhere (only the diff id is
 * wanted), a temporary directory here, or the helper in the namespace.
 */
interface TarTarget {
  /** Writes all of `tar`; throws the target's refusal or `tar`'s error. */
  take(tar: Readable): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const nowhere: TarTarget = {
  take: async (tar) => {
    for await (const _ of tar) { /* hashed on the way */ }
  },
  commit: () => Promise.resolve(),
  abort: () => Promise.resolve(),
};

/** A temporary sibling of `dest` the tar is written into, in this process. */
class TempLayer implements TarTarget {
  #tmp: string | undefined;
  #release = zeroUmask();

  constructor(private readonly dest: string, private readonly userns: boolean) {
    this.#tmp = `${dest}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      Deno.mkdirSync(this.#tmp, { mode: 0o700 });
    } catch (e) {
      this.#release();
      throw e;
    }
  }

  take(tar: Readable): Promise<void> {
    return writeLayer(tar, this.#tmp!, this.userns);
  }

  commit(): Promise<void> {
    this.#release();
    if (this.#tmp !== undefined) moveIntoPlace(this.#tmp, this.dest);
    this.#tmp = undefined;
    return Promise.resolve();
  }

  abort(): Promise<void> {
    this.#release();
    if (this.#tmp !== undefined) {
      Deno.removeSync(this.#tmp, { recursive: true });
    }
    this.#tmp = undefined;
    return Promise.resolve();
  }
}

/**
 * A sink that decompresses (the compression sniffed from the first bytes)
 * and hashes a layer blob in this process and hands the plain tar to a
 * target. With `decode` off the bytes are a plain tar already, passed on
 * unhashed (the helper's side of the pipe).
 */
class DecodingSink implements LayerSink {
  #head: Uint8Array[] = [];
  #z: Transform | undefined;
  #hash = createHash("sha256");
  #size = 0;
  #done: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;
  #failed: () => void = () => {};
  #stopped = new Promise<void>((r) => this.#failed = r);

  /** `what` names the blob in errors. */
  constructor(
    private readonly mediaType: string,
    private readonly target: TarTarget,
    private readonly what: string,
    private readonly decode = true,
  ) {
    if (!decode) this.#begin(new PassThrough({ highWaterMark: CHUNK }));
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    // With an error, so that the target reading behind it stops too.
    this.#z?.destroy(error instanceof Error ? error : new Error(String(error)));
    this.#failed();
  }

  #begin(z: Transform): void {
    this.#z = z;
    this.#done = this.target.take(this.decode ? this.#hashed(z) : z);
    this.#done.catch((e) => this.#fail(e));
  }

  /**
   * The tar, hashed as the target reads it. A stage of its own rather than
   * a "data" listener, which would also take the chunks a target that has
   * not begun to read yet never sees.
   */
  #hashed(z: Transform): Readable {
    const out = new Transform({
      highWaterMark: CHUNK,
      transform: (chunk: Uint8Array, _encoding, done) => {
        this.#hash.update(chunk);
        this.#size += chunk.length;
        done(null, chunk);
      },
    });
    z.on("error", (e) => out.destroy(e));
    return z.pipe(out);
  }

  /** Starts decompressing once the magic bytes are in. */
  #start(): void {
    const head = concatBytes(...this.#head);
    this.#head = [];
    try {
      this.#begin(decompressor(layerCompression(head, this.mediaType)));
    } catch (e) {
      return this.#fail(e);
    }
    this.#z!.write(head);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return;
    if (!this.#z) {
      this.#head.push(chunk);
      if (this.#head.reduce((n, c) => n + c.length, 0) >= 4) this.#start();
      return;
    }
    // A failed layer stops reading: its failure, not `drain`, ends the wait.
    if (!this.#z.write(chunk)) {
      await Promise.race([
        once(this.#z, "drain").catch(() => {}),
        this.#stopped,
      ]);
    }
  }

  async end(): Promise<string> {
    if (!this.#z && !this.#failure) this.#start();
    if (!this.#failure) this.#z?.end();
    await this.#done.catch(() => {});
    if (this.#failure) {
      const e = this.#failure.error;
      if (e instanceof LayerError || e instanceof HelperError) throw e;
      throw new Error(`invalid layer ${this.what}: ${oneLine(e)}`);
    }
    return `sha256:${this.#hash.digest("hex")}`;
  }

  get size(): number {
    return this.#size;
  }

  commit(): Promise<void> {
    return this.target.commit();
  }

  async abort(): Promise<void> {
    this.#fail(new Error("aborted"));
    await this.#done.catch(() => {});
    await this.target.abort();
  }
}

/** A pipe whose read end is for a child and whose write end Deno writes. */
function pipeToChild(): { file: Deno.FsFile; read: number } {
  const [r, w] = inheritablePipe();
  // Fewer, larger hand-overs to the helper; a refusal (limits) costs nothing.
  libc().fcntl(w, F_SETPIPE_SZ, 1 << 20);
  setCloexec(w);
  const file = Deno.openSync(`/proc/self/fd/${w}`, { write: true });
  closeFd(w);
  return { file, read: r };
}

/** Lines read from a pipe as they come. */
class Lines {
  #text = "";
  #decoder = new TextDecoder();
  #eof = false;
  constructor(private readonly f: Deno.FsFile) {}

  /** The next line, or undefined at the end. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#text.indexOf("\n");
      if (nl >= 0) {
        const line = this.#text.slice(0, nl);
        this.#text = this.#text.slice(nl + 1);
        return line;
      }
      if (this.#eof) {
        const last = this.#text || undefined;
        this.#text = "";
        return last;
      }
      const buf = new Uint8Array(4096);
      const n = await this.f.read(buf).catch(() => null);
      if (n === null) {
        this.#eof = true;
        continue;
      }
      const text = this.#decoder.decode(buf.subarray(0, n), { stream: true });
      this.#text += text;
    }
  }
}

/** What the helper said went wrong, as it said it. */
class HelperError extends Error {}

/**
 * The target of a rootless unpack: `ptd storage-unpack` in a user
 * namespace, fed the plain tar through a pipe; decompressing and hashing
 * stay here, so the two processes share the work. It answers one line on a
 * second pipe, "ok" or "error MESSAGE", once it has read the whole tar, then
 * waits for the verdict on a third: "commit" renames the layer into place (a
 * failure there is a second "error" line); anything else, or our death,
 * throws it away.
 */
class HelperLayer implements TarTarget {
  #data: Deno.FsFile;
  #verdict: Deno.FsFile;
  #result: Deno.FsFile;
  #lines: Lines;
  #exit: Promise<number>;

  constructor(dest: string, what: string) {
    const data = pipeToChild(), verdict = pipeToChild();
    const result = pipeFromChild();
    this.#data = data.file;
    this.#verdict = verdict.file;
    this.#result = result.file;
    this.#lines = new Lines(result.file);
    this.#exit = runInUserNamespace([
      UNPACK_COMMAND,
      resolve(dest),
      what,
      String(data.read),
      String(result.write),
      String(verdict.read),
    ]);
    this.#exit.catch(() => {});
    // runInUserNamespace clones before its first await: the child holds its
    // copies of these ends now, and no later child may inherit ours.
    for (const fd of [data.read, verdict.read, result.write]) closeFd(fd);
  }

  /** The helper's error: `line` if it said one, else how it exited. */
  async #failure(line: string | undefined): Promise<Error> {
    closeQuietly(this.#data);
    closeQuietly(this.#verdict);
    let code: number;
    try {
      code = await this.#exit;
    } catch (e) {
      return new HelperError(oneLine(e)); // it never started (id maps)
    }
    if (line?.startsWith("error ")) return new HelperError(line.slice(6));
    return new HelperError(`unpack helper exited with ${code}`);
  }

  async take(tar: Readable): Promise<void> {
    for await (const chunk of tar) {
      try {
        await writeAll(this.#data, chunk);
      } catch {
        // It stopped reading, which it does only when it has gone.
        throw await this.#failure(await this.#lines.next());
      }
    }
    closeQuietly(this.#data);
    const line = await this.#lines.next();
    if (line !== "ok") throw await this.#failure(line);
  }

  async commit(): Promise<void> {
    try {
      await writeAll(this.#verdict, new TextEncoder().encode("commit\n"));
    } catch { /* it has gone: its exit code says why */ }
    closeQuietly(this.#verdict);
    if (await this.#exit !== 0) {
      throw await this.#failure(await this.#lines.next());
    }
    closeQuietly(this.#result);
  }

  async abort(): Promise<void> {
    closeQuietly(this.#data);
    closeQuietly(this.#verdict);
    await this.#exit.catch(() => {});
    closeQuietly(this.#result);
  }
}

function closeQuietly(f: Deno.FsFile): void {
  try {
    f.close();
  } catch { /* closed already */ }
}

// Directories already given the Orlov hint by this process.
const topDirs = new Set<string>();

/**
 * Marks the layers directory as the top of directory hierarchies for ext4's
 * inode allocator (chattr +T), so each layer's tree starts in a block group
 * of its own rather than the parent's. Without a journal ext4 skips inodes
 * freed in the last minutes one by one, and a layer unpacked where another
 * was just removed (rmi, then pull) took several times as long in the
 * kernel. Elsewhere the flag is refused or means nothing: no harm.
 */
function markTopDir(dir: string): void {
  if (topDirs.has(dir)) return;
  topDirs.add(dir);
  let fd: number;
  try {
    fd = fs.openat(fs.AT_FDCWD, dir, fs.O_DIRECTORY);
  } catch {
    return;
  }
  try {
    const flags = new Int32Array(2);
    const buf = new Uint8Array(flags.buffer);
    if (libc().ioctl(fd, FS_IOC_GETFLAGS, buf) !== 0) return;
    if (flags[0] & FS_TOPDIR_FL) return;
    flags[0] |= FS_TOPDIR_FL;
    libc().ioctl(fd, FS_IOC_SETFLAGS, buf);
  } finally {
    fs.close(fd);
  }
}

/**
 * A sink for the layer blob of `mediaType`: with `dest`, it unpacks into a
 * temporary sibling of `dest` (its parent made, private, where missing)
 * that `commit` renames into place (rootless, in the user-namespace
 * helper); without, it only computes the diff id.
 * `what` names the blob in errors.
 */
export function layerSink(
  mediaType: string,
  dest: string | undefined,
  what: string,
): LayerSink {
  if (dest === undefined) return new DecodingSink(mediaType, nowhere, what);
  const parent = dirname(resolve(dest));
  Deno.mkdirSync(parent, { recursive: true, mode: 0o700 });
  markTopDir(parent);
  const target = Deno.uid() === 0
    ? new TempLayer(dest, false)
    : new HelperLayer(dest, what);
  return new DecodingSink(mediaType, target, what);
}

/** Feeds the file at `path` into `sink` (then call `end`). */
export async function feedFile(path: string, sink: LayerSink): Promise<void> {
  for await (const c of createReadStream(path, { highWaterMark: CHUNK })) {
    await sink.write(c);
  }
}

/**
 * Unpacks the layer blob at `blobPath` (gzip, zstd or plain tar) into the
 * new directory `dest`, atomically; an existing `dest` is that layer already
 * (layer dirs are named by content). With `diffId`, the content must hash to
 * it. Rootless it runs as root of a user namespace so the image's owners
 * survive. Throws a one-line error on a hostile or broken archive, leaving
 * nothing at `dest`.
 */
export async function unpackLayer(
  blobPath: string,
  mediaType: string,
  dest: string,
  diffId?: string,
): Promise<void> {
  if (exists(dest)) return;
  const sink = layerSink(mediaType, dest, blobPath);
  try {
    await feedFile(blobPath, sink);
    const got = await sink.end();
    if (diffId !== undefined && got !== diffId) {
      throw new Error(
        `layer ${blobPath}: digest mismatch: want ${diffId}, got ${got}`,
      );
    }
    await sink.commit();
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/** Opens an inherited descriptor through Deno (async reads and writes). */
function inherited(fd: string, write: boolean): Deno.FsFile {
  const f = Deno.openSync(`/proc/self/fd/${fd}`, { read: !write, write });
  closeFd(Number(fd));
  return f;
}

/**
 * Entry of `ptd storage-unpack DEST WHAT DATAFD RESULTFD VERDICTFD` in the
 * user namespace: unpacks the plain tar that arrives on DATAFD (all of it is
 * read, even after a refusal: the parent is still checking the blob's
 * digest), answers on RESULTFD and renames into DEST only on the parent's
 * "commit".
 */
export async function unpackMain(args: string[]): Promise<number> {
  trace("unpack-main");
  const [dest, what, dataFd, resultFd, verdictFd] = args;
  const result = inherited(resultFd, true);
  const say = (line: string) => {
    try {
      result.writeSync(new TextEncoder().encode(`${line}\n`));
    } catch { /* the parent has gone; its verdict (none) decides */ }
  };
  let sink: DecodingSink | undefined;
  try {
    const tar = "application/vnd.oci.image.layer.v1.tar";
    sink = new DecodingSink(tar, new TempLayer(dest, true), what, false);
    const data = inherited(dataFd, false);
    // One buffer for the reads, and a copy of just what came: cheaper than
    // a fresh (zeroed) buffer per read, which a pipe fills only in part.
    const buf = new Uint8Array(4 * CHUNK);
    for (;;) {
      const n = await data.read(buf);
      if (n === null) break;
      await sink.write(buf.slice(0, n));
    }
    await sink.end();
    trace("unpack-written");
    say("ok");
    const verdict = await new Response(inherited(verdictFd, false).readable)
      .text();
    if (verdict.trim() !== "commit") {
      await sink.abort();
      return 1;
    }
    await sink.commit();
    return 0;
  } catch (e) {
    say(`error ${oneLine(e)}`);
    await sink?.abort();
    return 1;
  }
}
