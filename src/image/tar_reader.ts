/**
 * Reading a layer's tar stream entry by entry, with the pax extended
 * records applied and extended attributes kept as bytes.
 *
 * ptd reads layers with this rather than tar-stream because tar-stream
 * decodes every pax value as UTF-8 text: a binary xattr value (a file
 * capability, most `user.*` values) comes out mangled, and no option or
 * public hook gives the record's bytes. Reading the blocks here costs a
 * small parser, and suits the layer writer, whose file system calls are
 * synchronous: the bytes go straight from the chunk to write(2), with no
 * stream or promise per entry.
 *
 * It reads POSIX ustar and pax (local `x` and global `g` headers), GNU
 * tar's long names (`L`, `K`) and base-256 numbers, and old v7 headers.
 * Like Go's archive/tar (what Podman unpacks with), the size of a link,
 * symlink, device, directory or fifo entry is taken as 0.
 */
import { PAX_XATTR } from "./pax.ts";

/** An entry's kind, as tar-stream named them; other typeflags are kept. */
export type EntryType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | `typeflag ${string}`;

/** One entry's header, pax records applied. Times are in seconds. */
export interface TarHeader {
  name: string;
  type: EntryType;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  atime: number;
  devmajor: number;
  devminor: number;
  /** Extended attributes (pax `SCHILY.xattr.NAME`), values as bytes. */
  xattrs: Map<string, Uint8Array>;
}

/** Receives the entries: `entry`, then its `data` in order, then `end`. */
export interface TarVisitor {
  entry(header: TarHeader): void;
  data(chunk: Uint8Array): void;
  end(): void;
}

const BLOCK = 512;
/** The largest pax or GNU long-name header taken (tar-stream's limit). */
const MAX_EXTENSION = 4 * 1024 * 1024;
const XATTR = PAX_XATTR;
const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file", // contiguous: a regular file everywhere but on old systems
  "1": "link",
  "2": "symlink",
  "3": "character-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
};
const NO_DATA = new Set<EntryType>([
  "link",
  "symlink",
  "character-device",
  "block-device",
  "directory",
  "fifo",
]);

const utf8 = new TextDecoder();

/** The NUL-terminated string in `field`. */
function text(field: Uint8Array): string {
  const nul = field.indexOf(0);
  return utf8.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** A numeric field: octal text, or base-256 when the high bit is set. */
function number(field: Uint8Array): number {
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    const negative = (field[0] & 0x40) !== 0;
    if (negative) n = field[0] - 0x100;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const digits = text(field).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw new Error("invalid tar header number");
  return parseInt(digits, 8);
}

/** True when the checksum matches (unsigned, or signed as old tars made). */
function checksumOk(block: Uint8Array): boolean {
  const want = number(block.subarray(148, 156));
  let unsigned = 8 * 0x20, signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += block[i];
    signed += (block[i] << 24) >> 24;
  }
  return want === unsigned || want === signed;
}

/**
 * The records of a pax header: "LEN KEY=VALUE\n", LEN counting the whole
 * record in bytes. Values stay bytes.
 */
export function parsePax(body: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // padding after the last record
    const space = body.indexOf(0x20, at);
    const len = space > at ? Number(utf8.decode(body.subarray(at, space))) : 0;
    const end = at + len;
    if (
      !Number.isInteger(len) || len <= 0 || end > body.length ||
      body[end - 1] !== 0x0a
    ) {
      throw new Error("invalid pax header record");
    }
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new Error("invalid pax header record");
    out.set(utf8.decode(record.subarray(0, eq)), record.slice(eq + 1));
    at = end;
  }
  return out;
}

/** The typeflag and the block's own fields, before extensions apply. */
function decodeBlock(block: Uint8Array): [string, TarHeader] {
  const flag = String.fromCharCode(block[156]);
  let name = text(block.subarray(0, 100));
  const magic = text(block.subarray(257, 263));
  const ustar = magic === "ustar" && block[262] === 0;
  if (ustar && block[345] !== 0) {
    name = `${text(block.subarray(345, 500))}/${name}`;
  }
  let type: EntryType = TYPES[flag] ?? `typeflag ${JSON.stringify(flag)}`;
  // Before typeflag 5, a directory was a file whose name ends in "/".
  if (flag === "\0" && name.endsWith("/")) type = "directory";
  const mtime = number(block.subarray(136, 148));
  return [flag, {
    name,
    type,
    linkname: text(block.subarray(157, 257)),
    mode: number(block.subarray(100, 108)),
    uid: number(block.subarray(108, 116)),
    gid: number(block.subarray(116, 124)),
    size: number(block.subarray(124, 136)),
    mtime,
    atime: mtime,
    devmajor: number(block.subarray(329, 337)),
    devminor: number(block.subarray(337, 345)),
    xattrs: new Map(),
  }];
}

/** Pax records that replace a numeric header field of the same name. */
type NumericPax = "size" | "uid" | "gid" | "mtime";
const NUMERIC_PAX = new Set<string>(["size", "uid", "gid", "mtime"]);

/** Applies pax records (global ones first, then the entry's own). */
function applyPax(h: TarHeader, pax: Map<string, Uint8Array>): void {
  let atime: number | undefined;
  for (const [key, bytes] of pax) {
    if (key.startsWith(XATTR)) {
      h.xattrs.set(key.slice(XATTR.length), bytes);
      continue;
    }
    const value = utf8.decode(bytes);
    if (value === "") continue; // an empty value unsets a global record
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`invalid pax ${key} ${value}`);
      return n;
    };
    if (key === "path") h.name = value;
    else if (key === "linkpath") h.linkname = value;
    else if (key === "atime") atime = num();
    else if (NUMERIC_PAX.has(key)) h[key as NumericPax] = num();
  }
  h.atime = atime ?? h.mtime;
}

/**
 * A tar stream read as it comes: `write` each chunk, `finish` at the end.
 * The visitor's calls happen inside `write`; what they throw, and every
 * error of the archive itself, is thrown from there.
 */
export class TarReader {
  /** Bytes of a header block or an extension body being gathered. */
  #pending = new Uint8Array(BLOCK);
  #have = 0;
  #need = BLOCK;
  /** The extension header whose body is being gathered, if any. */
  #extension: string | undefined;
  #dataLeft = 0;
  #skipLeft = 0;
  #inEntry = false;
  #global = new Map<string, Uint8Array>();
  #local = new Map<string, Uint8Array>();
  #longName: string | undefined;
  #longLink: string | undefined;

  constructor(private readonly visitor: TarVisitor) {}

  /** Takes the next bytes of the archive. */
  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const rest = chunk.length - at;
      if (this.#dataLeft > 0) {
        const n = Math.min(this.#dataLeft, rest);
        this.visitor.data(chunk.subarray(at, at + n));
        at += n;
        this.#dataLeft -= n;
        if (this.#dataLeft === 0) this.#endEntry();
        continue;
      }
      if (this.#skipLeft > 0) {
        const n = Math.min(this.#skipLeft, rest);
        at += n;
        this.#skipLeft -= n;
        continue;
      }
      const n = Math.min(this.#need - this.#have, rest);
      this.#pending.set(chunk.subarray(at, at + n), this.#have);
      this.#have += n;
      at += n;
      if (this.#have === this.#need) this.#gathered();
    }
  }

  /** The archive has ended: throws when it stopped inside an entry. */
  finish(): void {
    if (
      this.#inEntry || this.#skipLeft > 0 || this.#have > 0 ||
      this.#extension !== undefined
    ) {
      throw new Error("unexpected end of data");
    }
  }

  /** Padding to the next block after `size` bytes. */
  #padding(size: number): number {
    return (BLOCK - size % BLOCK) % BLOCK;
  }

  #expect(need: number): void {
    this.#have = 0;
    this.#need = need;
    if (this.#pending.length < need) this.#pending = new Uint8Array(need);
  }

  #gathered(): void {
    const bytes = this.#pending.subarray(0, this.#need);
    const extension = this.#extension;
    this.#extension = undefined;
    this.#expect(BLOCK);
    if (extension !== undefined) {
      this.#skipLeft = this.#padding(bytes.length);
      return this.#applyExtension(extension, bytes);
    }
    if (bytes.every((b) => b === 0)) return; // end-of-archive blocks
    if (!checksumOk(bytes)) {
      throw new Error(
        "invalid tar header (bad checksum): not a tar archive, or corrupted",
      );
    }
    const [flag, h] = decodeBlock(bytes);
    if (!["x", "g", "L", "K"].includes(flag)) return this.#startEntry(h);
    if (h.size > MAX_EXTENSION) throw new Error("tar header too large");
    if (h.size === 0) return this.#applyExtension(flag, new Uint8Array());
    this.#extension = flag;
    this.#expect(h.size);
  }

  #applyExtension(flag: string, body: Uint8Array): void {
    if (flag === "x") {
      for (const [k, v] of parsePax(body)) this.#local.set(k, v);
    } else if (flag === "g") {
      for (const [k, v] of parsePax(body)) this.#global.set(k, v);
    } else if (flag === "L") this.#longName = text(body);
    else this.#longLink = text(body);
  }

  #startEntry(h: TarHeader): void {
    if (this.#longName !== undefined) h.name = this.#longName;
    if (this.#longLink !== undefined) h.linkname = this.#longLink;
    applyPax(h, new Map([...this.#global, ...this.#local]));
    this.#local = new Map();
    this.#longName = this.#longLink = undefined;
    if (NO_DATA.has(h.type)) h.size = 0;
    this.#inEntry = true;
    this.visitor.entry(h);
    this.#dataLeft = h.size;
    this.#skipLeft = this.#padding(h.size);
    if (h.size === 0) this.#endEntry();
  }

  #endEntry(): void {
    this.#inEntry = false;
    this.visitor.end();
  }
}
