/**
 * Content-addressed blobs: <data>/blobs/sha256/<hex>. A blob is written to a
 * temp file in blobs/tmp/ while its digest is computed, and renamed into
 * place only when the digest matched, so a file under sha256/ is always the
 * content its name says; a killed writer leaves only a temp file, which
 * the next writer (or `prune`) removes.
 */
import { invalid } from "../runtime/errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { ensureDir } from "./paths.ts";
import { removeTrees } from "./remove.ts";
import { pidExists } from "../runtime/pids.ts";

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/**
 * sha256 of bytes, as "sha256:<hex>". Pure JavaScript, for the small
 * documents (manifests, configs, chain ids) that even a `run` hashes:
 * node:crypto would cost every such command ~20 ms of Node layer start-up.
 */
export function digestOf(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? utf8ToBytes(data) : data;
  return `sha256:${bytesToHex(sha256(bytes))}`;
}

/** A native sha256 for streams of blob data, loaded on first use. */
export async function streamHash() {
  const { createHash } = await import("node:crypto");
  return createHash("sha256");
}

/** The hex part of a "sha256:<hex>" digest; throws on anything else. */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw invalid(`unsupported digest ${JSON.stringify(digest)}`);
  return m[1];
}

/** Raised when content does not hash to the digest it was fetched as. */
export class DigestMismatch extends Error {
  constructor(what: string, want: string, got: string) {
    super(`${what}: digest mismatch: want ${want}, got ${got}`);
  }
}

/** Bytes handed on at once while streaming a blob in. */
const BATCH = 256 * 1024;

/**
 * Joins the small chunks a network stream yields into chunks of at least
 * `min` bytes (the last may be shorter): a few hundred writes per blob
 * instead of thousands.
 */
async function* batched(
  source: AsyncIterable<Uint8Array>,
  min: number,
): AsyncIterable<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  const join = () => {
    const out = parts.length === 1 ? parts[0] : concatBytes(...parts);
    parts = [];
    size = 0;
    return out;
  };
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= min) yield join();
  }
  if (size > 0) yield join();
}

/** Writes all of `data` to `f`, a file or socket (a write may take only part). */
export async function writeAll(
  f: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  for (let off = 0; off < data.length;) {
    off += await f.write(data.subarray(off));
  }
}

/** A blob directory of one store. */
export class BlobStore {
  readonly root: string;
  constructor(data: string) {
    this.root = `${data}/blobs`;
  }

  /** Path of a blob (which may not exist). */
  path(digest: string): string {
    return `${this.root}/sha256/${digestHex(digest)}`;
  }

  /** True when the blob is stored. */
  has(digest: string): boolean {
    try {
      return Deno.statSync(this.path(digest)).isFile;
    } catch {
      return false;
    }
  }

  /** Size in bytes of a stored blob. */
  size(digest: string): number {
    return Deno.statSync(this.path(digest)).size;
  }

  /** Every stored blob digest. */
  list(): string[] {
    try {
      return [...Deno.readDirSync(`${this.root}/sha256`)]
        .filter((e) => e.isFile && /^[a-f0-9]{64}$/.test(e.name))
        .map((e) => `sha256:${e.name}`);
    } catch {
      return [];
    }
  }

  /**
   * Streams `source` into the store, verifying it hashes to `digest` (and
   * is `size` bytes when given). `onChunk` sees each chunk as it is written,
   * for progress and for hashing the uncompressed content alongside.
   */
  async put(
    digest: string,
    source: ReadableStream<Uint8Array>,
    opts: {
      size?: number;
      onChunk?: (chunk: Uint8Array) => void | Promise<void>;
      /** A last check (e.g. of the uncompressed content) before the rename. */
      beforeCommit?: () => Promise<void>;
    } = {},
  ): Promise<string> {
    const final = this.path(digest);
    const tmp = this.tempPath();
    const hash = await streamHash();
    let n = 0;
    const f = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    try {
      for await (const chunk of batched(source, BATCH)) {
        hash.update(chunk);
        n += chunk.length;
        if (opts.size !== undefined && n > opts.size) {
          throw new Error(
            `${digest}: blob larger than its declared ${opts.size} bytes`,
          );
        }
        // The file and the chunk's other consumer (an unpack) work at once.
        await Promise.all([opts.onChunk?.(chunk), writeAll(f, chunk)]);
      }
      const got = `sha256:${hash.digest("hex")}`;
      if (got !== digest) throw new DigestMismatch("blob", digest, got);
      if (opts.size !== undefined && n !== opts.size) {
        throw new Error(`${digest}: blob is ${n} bytes, want ${opts.size}`);
      }
      await Promise.all([opts.beforeCommit?.(), f.sync()]);
    } catch (e) {
      f.close();
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    f.close();
    ensureDir(`${this.root}/sha256`, 0o755);
    await Deno.rename(tmp, final);
    return final;
  }

  /** Stores bytes whose digest is computed here; returns the digest. */
  async putBytes(data: Uint8Array): Promise<string> {
    const digest = digestOf(data);
    if (!this.has(digest)) {
      await this.put(digest, ReadableStream.from([data]), {
        size: data.length,
      });
    }
    return digest;
  }

  /**
   * Moves a finished temp file (from `tempPath`) into the store under the
   * digest of its content; returns that digest.
   */
  async adopt(tmp: string): Promise<string> {
    const hash = await streamHash();
    const f = await Deno.open(tmp);
    for await (const chunk of f.readable) hash.update(chunk);
    const digest = `sha256:${hash.digest("hex")}`;
    ensureDir(`${this.root}/sha256`, 0o755);
    await Deno.rename(tmp, this.path(digest));
    return digest;
  }

  /** Reads a stored blob, verifying it again (disk contents can rot). */
  async read(digest: string): Promise<Uint8Array> {
    const data = await Deno.readFile(this.path(digest));
    const got = digestOf(data);
    if (got !== digest) throw new DigestMismatch("stored blob", digest, got);
    return data;
  }

  /** Removes blobs; missing ones are fine. */
  remove(digests: Iterable<string>): void {
    for (const d of digests) {
      try {
        Deno.removeSync(this.path(d));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }

  /**
   * Removes temp files and trees that interrupted writers left: every one
   * (under the store's exclusive lock, when no writer runs) or, with
   * `deadOnly`, those whose writer is gone (safe beside live writers: a
   * temp's name starts with its writer's pid). Returns how many.
   */
  async removeTemps(deadOnly = false): Promise<number> {
    const dir = `${this.root}/tmp`;
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch {
      return 0; // no temp dir
    }
    if (deadOnly) names = names.filter((n) => !writerAlive(n));
    await removeTrees(names.map((n) => `${dir}/${n}`));
    return names.length;
  }

  /**
   * A fresh temp path beside the blobs (same file system, so rename works),
   * named after this process (see `removeTemps`).
   */
  tempPath(): string {
    ensureDir(`${this.root}/tmp`, 0o700);
    return `${this.root}/tmp/${tempPrefix()}${crypto.randomUUID()}`;
  }
}

/** The start of the name of every temp this process makes in blobs/tmp. */
export function tempPrefix(): string {
  return `${Deno.pid}-`;
}

/** Whether the process that named temp `name` still runs. */
function writerAlive(name: string): boolean {
  const pid = /^(\d+)-/.exec(name)?.[1];
  return !!pid && pidExists(Number(pid));
}
