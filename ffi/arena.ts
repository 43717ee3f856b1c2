/**
 * The memory native clone routines run from: an executable page per
 * routine, and an arena per clone — one anonymous mapping (not
 * MADV_DONTFORK like Deno's heap, so the child gets a copy) holding the
 * routine's stack, then a block of 8-byte argument slots, then the strings,
 * pointer lists and int lists the slots point at.
 */
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";
import { check, libc } from "./libc.ts";

const STACK_SIZE = 64 * 1024;
const pages = new Map<Uint8Array, Deno.PointerObject>();

/** Anonymous private memory, which a clone()d child gets a copy of. */
export function mapAnon(size: number, prot: number): Deno.PointerObject {
  const addr = check(
    "mmap",
    libc().mmap(
      null,
      size,
      prot,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
      -1,
      0,
    ),
  );
  return Deno.UnsafePointer.create(addr)!;
}

/** An executable page holding `code` (one page per routine, kept). */
export function routinePage(code: Uint8Array): Deno.PointerObject {
  const known = pages.get(code);
  if (known) return known;
  const page = mapAnon(4096, PROT_READ | PROT_WRITE);
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, code.length))
    .set(code);
  check("mprotect", libc().mprotect(page, 4096n, PROT_READ | PROT_EXEC));
  pages.set(code, page);
  return page;
}

/** What an arena must hold; sizes are bounds, not exact. */
export interface ArenaPlan {
  /** Argument slots of the block. */
  slots: number;
  /** Every string stored, alone or in a list. */
  strings: string[];
  /** Entries of each pointer list, without the terminator. */
  lists: number[];
  /** Entries of each int list, without the terminator. */
  ints: number[];
  /** Bytes of a seccomp filter (sockFprog), if any. */
  filter?: number;
}

function planSize(p: ArenaPlan): number {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; 8 more pad and end each.
  const bytes = p.strings.reduce((n, s) => n + 4 * s.length + 16, 0);
  const lists = p.lists.reduce((n, len) => n + 8 * (len + 1) + 8, 0);
  const ints = p.ints.reduce((n, len) => n + 4 * (len + 1) + 8, 0);
  return STACK_SIZE + 8 * p.slots + bytes + lists + ints +
    (p.filter ?? 0) + 32;
}

/** Bump allocator over one mmap'd region the child inherits. */
export class Arena {
  readonly size: number;
  readonly base: Deno.PointerObject;
  readonly view: DataView;
  readonly addr: bigint;
  private at: number;

  constructor(plan: ArenaPlan) {
    this.size = planSize(plan);
    this.base = mapAnon(this.size, PROT_READ | PROT_WRITE);
    this.view = new DataView(
      Deno.UnsafePointerView.getArrayBuffer(this.base, this.size),
    );
    this.addr = BigInt(Deno.UnsafePointer.value(this.base));
    this.at = STACK_SIZE + 8 * plan.slots;
  }

  /** Where the routine's stack starts (it grows down from the block). */
  get stackTop(): Deno.PointerObject {
    return Deno.UnsafePointer.create(this.addr + BigInt(STACK_SIZE - 16))!;
  }

  /** The argument block: the routine's one argument. */
  get block(): Deno.PointerObject {
    return Deno.UnsafePointer.create(this.addr + BigInt(STACK_SIZE))!;
  }

  private take(n: number): number {
    const off = (this.at + 7) & ~7;
    this.at = off + n;
    if (this.at > this.size) throw new Error("clone arena overflow");
    return off;
  }

  /** A NUL-terminated copy of `s`; its address. */
  string(s: string): bigint {
    const b = new TextEncoder().encode(s);
    const off = this.take(b.length + 1);
    new Uint8Array(this.view.buffer, off, b.length).set(b);
    this.view.setUint8(off + b.length, 0);
    return this.addr + BigInt(off);
  }

  /** A NULL-terminated array of string pointers (argv, envp). */
  strings(list: string[]): bigint {
    const off = this.take(8 * (list.length + 1));
    list.forEach((s, i) =>
      this.view.setBigUint64(off + 8 * i, this.string(s), true)
    );
    this.view.setBigUint64(off + 8 * list.length, 0n, true);
    return this.addr + BigInt(off);
  }

  /** An int32 array; the caller adds its own terminator if it needs one. */
  ints(list: number[]): bigint {
    const off = this.take(4 * list.length + 4);
    list.forEach((v, i) => this.view.setInt32(off + 4 * i, v, true));
    return this.addr + BigInt(off);
  }

  /** A struct sock_fprog over a copy of `filter` (sock_filter entries). */
  sockFprog(filter: Uint8Array): bigint {
    const data = this.take(filter.length);
    new Uint8Array(this.view.buffer, data, filter.length).set(filter);
    const off = this.take(16);
    this.view.setUint16(off, filter.length / 8, true);
    this.view.setBigUint64(off + 8, this.addr + BigInt(data), true);
    return this.addr + BigInt(off);
  }

  /** Sets argument slot `index` (byte offset 8 * index of the block). */
  slot(index: number, v: bigint | number) {
    this.view.setBigInt64(STACK_SIZE + 8 * index, BigInt(v), true);
  }

  /** Unmaps the parent's copy; the child keeps its own. */
  free() {
    libc().munmap(this.base, BigInt(this.size));
  }
}
