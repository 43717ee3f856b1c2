/**
 * A resolved seccomp profile compiled to a classic BPF program, the form
 * seccomp(2) loads: check the architecture (x32 is x86-64 with bit 30 in the
 * syscall number), then for each syscall the profile names, its rules in the
 * kernel's order of precedence (the most restrictive action first), each
 * rule's argument comparisons on 64-bit values as two 32-bit halves, and the
 * default action last. A call from an architecture the profile does not
 * cover kills the process, as libseccomp's default does.
 */
import { invalid } from "../runtime/errors.ts";
import type {
  ArgRule,
  ResolvedProfile,
  ResolvedRule,
} from "./seccomp_profile.ts";
import { SYSCALL_TABLE } from "./syscall_table.ts";

/** AUDIT_ARCH_* and the syscall table of each architecture ptd compiles for. */
const ARCHES: Record<string, { audit: number; table: string; bits: 32 | 64 }> =
  {
    SCMP_ARCH_X86_64: { audit: 0xc000003e, table: "x86_64", bits: 64 },
    SCMP_ARCH_X86: { audit: 0x40000003, table: "x86", bits: 32 },
    SCMP_ARCH_X32: { audit: 0xc000003e, table: "x32", bits: 64 },
    SCMP_ARCH_AARCH64: { audit: 0xc00000b7, table: "aarch64", bits: 64 },
  };

const X32_BIT = 0x40000000;
const RET_KILL_PROCESS = 0x80000000;

// Classic BPF opcodes (linux/filter.h).
const LD_ABS = 0x20, JA = 0x05, JEQ = 0x15, JGT = 0x25, JGE = 0x35;
const AND = 0x54, RET = 0x06;

/** A program under construction: jumps name labels, resolved at the end. */
type Item =
  | { code: number; k: number; jt?: string; jf?: string }
  | { label: string };

const tables = new Map<string, Map<string, number>>();

/** Name -> number of an architecture's syscalls. */
export function syscallNumbers(table: string): Map<string, number> {
  let map = tables.get(table);
  if (map) return map;
  map = new Map();
  let nr = 0;
  for (const tok of SYSCALL_TABLE[table].split(" ")) {
    if (tok.startsWith("@")) nr = Number(tok.slice(1));
    else map.set(tok, nr++);
  }
  tables.set(table, map);
  return map;
}

/** Kernel precedence of return values: lower wins (seccomp.h). */
function precedence(action: number): number {
  const a = (action & 0xffff0000) >>> 0;
  return [0x80000000, 0x00000000, 0x00030000, 0x00050000, 0x7fc00000]
    .concat([0x7ff00000, 0x7ffc0000, 0x7fff0000]).indexOf(a);
}

class Program {
  items: Item[] = [];
  private n = 0;
  label(): string {
    return `L${this.n++}`;
  }
  at(label: string) {
    this.items.push({ label });
  }
  op(code: number, k: number, jt?: string, jf?: string) {
    this.items.push({ code, k: k >>> 0, jt, jf });
  }

  /** The program as struct sock_filter entries, 8 bytes each. */
  bytes(): Uint8Array {
    const where = new Map<string, number>();
    const ops: Exclude<Item, { label: string }>[] = [];
    for (const it of this.items) {
      if ("label" in it) where.set(it.label, ops.length);
      else ops.push(it);
    }
    if (ops.length > 4096) {
      throw invalid("seccomp: the profile needs more than 4096 instructions");
    }
    const out = new Uint8Array(ops.length * 8);
    const view = new DataView(out.buffer);
    ops.forEach((o, i) => {
      const off = (l?: string) => l === undefined ? 0 : where.get(l)! - i - 1;
      let k = o.k, jt = off(o.jt), jf = off(o.jf);
      if (o.code === JA) [k, jt, jf] = [jt, 0, 0];
      else if (jt > 255 || jf > 255) throw new Error("bpf: jump too far");
      view.setUint16(i * 8, o.code, true);
      view.setUint8(i * 8 + 2, jt);
      view.setUint8(i * 8 + 3, jf);
      view.setUint32(i * 8 + 4, k, true);
    });
    return out;
  }
}

/** Emits a comparison of argument `a`; falls through when it holds. */
function compare(p: Program, a: ArgRule, bits: 32 | 64, fail: string) {
  const lo = 16 + 8 * a.index, hi = lo + 4;
  const half = (v: bigint, high: boolean) =>
    Number(high ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);
  const ok = p.label();
  const wide = bits === 64;
  switch (a.op) {
    case "SCMP_CMP_EQ":
    case "SCMP_CMP_MASKED_EQ": {
      const masked = a.op === "SCMP_CMP_MASKED_EQ";
      const want = masked ? a.valueTwo : a.value;
      for (const high of wide ? [true, false] : [false]) {
        p.op(LD_ABS, high ? hi : lo);
        if (masked) p.op(AND, half(a.value, high));
        p.op(JEQ, half(want, high), undefined, fail);
      }
      break;
    }
    case "SCMP_CMP_NE":
      if (wide) {
        p.op(LD_ABS, hi);
        p.op(JEQ, half(a.value, true), undefined, ok);
      }
      p.op(LD_ABS, lo);
      p.op(JEQ, half(a.value, false), fail);
      break;
    default: {
      // GT, GE, LT, LE: the high half decides unless equal, then the low.
      const greater = a.op === "SCMP_CMP_GT" || a.op === "SCMP_CMP_GE";
      if (wide) {
        p.op(LD_ABS, hi);
        p.op(JGT, half(a.value, true), greater ? ok : fail);
        p.op(JEQ, half(a.value, true), undefined, greater ? fail : ok);
      }
      p.op(LD_ABS, lo);
      const strict = a.op === "SCMP_CMP_GT" || a.op === "SCMP_CMP_LE";
      const code = strict ? JGT : JGE;
      if (greater) p.op(code, half(a.value, false), undefined, fail);
      else p.op(code, half(a.value, false), fail);
    }
  }
  p.at(ok);
}

/** Each syscall number of an architecture with the rules that name it. */
function rulesByNumber(
  rules: ResolvedRule[],
  numbers: Map<string, number>,
): Map<number, ResolvedRule[]> {
  const out = new Map<number, ResolvedRule[]>();
  for (const r of rules) {
    for (const name of r.names) {
      const nr = numbers.get(name);
      // A name this architecture lacks is skipped, as runc does.
      if (nr === undefined) continue;
      const list = out.get(nr) ?? [];
      if (!list.includes(r)) list.push(r);
      out.set(nr, list);
    }
  }
  for (const list of out.values()) {
    list.sort((a, b) => precedence(a.action) - precedence(b.action));
  }
  return out;
}

/** The syscall checks of one architecture, ending in the default action. */
function archBody(p: Program, arch: string, profile: ResolvedProfile) {
  const { table, bits } = ARCHES[arch];
  for (
    const [nr, rules] of rulesByNumber(profile.rules, syscallNumbers(table))
  ) {
    const unconditional = rules.length === 1 && rules[0].args.length === 0;
    if (unconditional) {
      const next = p.label();
      p.op(JEQ, nr, undefined, next);
      p.op(RET, rules[0].action);
      p.at(next);
      continue;
    }
    const body = p.label(), next = p.label();
    p.op(JEQ, nr, body);
    p.op(JA, 0, next);
    p.at(body);
    for (const r of rules) {
      const fail = p.label();
      for (const a of r.args) compare(p, a, bits, fail);
      p.op(RET, r.action);
      p.at(fail);
      if (r.args.length === 0) break;
    }
    p.op(RET, profile.defaultAction);
    p.at(next);
  }
  p.op(RET, profile.defaultAction);
}

/** Compiles `profile` to sock_filter entries for seccomp(2). */
export function compileProfile(profile: ResolvedProfile): Uint8Array {
  const arches = profile.arches.filter((a) => a in ARCHES);
  const p = new Program();
  const entry = new Map(arches.map((a) => [a, p.label()]));
  p.op(LD_ABS, 4);
  const byAudit = new Map<number, string[]>();
  for (const a of arches) {
    byAudit.set(ARCHES[a].audit, [...byAudit.get(ARCHES[a].audit) ?? [], a]);
  }
  const bad = p.label();
  for (const [audit, group] of byAudit) {
    const skip = p.label(), go = p.label();
    p.op(JEQ, audit, go, skip);
    p.at(go);
    p.op(LD_ABS, 0);
    const x32 = group.find((a) => a === "SCMP_ARCH_X32");
    const main = group.find((a) => a !== "SCMP_ARCH_X32");
    if (audit === ARCHES.SCMP_ARCH_X86_64.audit) {
      const plain = p.label();
      p.op(JGE, X32_BIT, undefined, plain);
      p.op(JA, 0, x32 ? entry.get(x32) : bad);
      p.at(plain);
    }
    p.op(JA, 0, main ? entry.get(main) : bad);
    p.at(skip);
  }
  p.at(bad);
  p.op(RET, RET_KILL_PROCESS);
  for (const a of arches) {
    p.at(entry.get(a)!);
    archBody(p, a, profile);
  }
  return p.bytes();
}
