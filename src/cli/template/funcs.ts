/**
 * The functions a Podman --format template may call: Go's builtins (not
 * and/or, which the executor short-circuits) and Podman's report.FuncMap
 * (json, join, lower, upper, title, truncate, pad, split). Arguments are
 * checked as Go's reflection would, with its messages.
 */
import {
  ArgError,
  CallError,
  goFloat,
  goJson,
  kindOf,
  show,
  truth,
  typeName,
} from "./value.ts";

type Fn = (...args: unknown[]) => unknown;

function want(
  v: unknown,
  kind: "string" | "int" | "[]string",
  index = 0,
): void {
  const k = kindOf(v);
  const ok = kind === "[]string"
    ? k === "slice" && (v as unknown[]).every((x) => typeof x === "string")
    : kind === "int"
    ? k === "int"
    : k === "string";
  if (!ok) {
    throw new ArgError(
      index,
      `wrong type for value; expected ${kind}; got ${typeName(v)}`,
    );
  }
}

function arity(args: unknown[], n: number, name: string) {
  if (args.length !== n) {
    throw new CallError(
      `wrong number of args for ${name}: want ${n} got ${args.length}`,
    );
  }
}

/** A string function of Go (checked arguments), as a template function. */
function strFn(
  name: string,
  kinds: ("string" | "int" | "[]string")[],
  f: (...a: never[]) => unknown,
): Fn {
  return (...args) => {
    arity(args, kinds.length, name);
    args.forEach((a, i) => want(a, kinds[i], i));
    return (f as Fn)(...args);
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Go's basicKind: numbers are one kind here (JS has one number type). */
function basic(v: unknown): string {
  const k = kindOf(v);
  if (k === "int" || k === "float") return "number";
  return k === "string" || k === "bool" || k === "invalid" || k === "nil"
    ? k
    : "other";
}

/** Go's eq of two values: basic kinds only, nil equal to nothing else. */
function equal(a: unknown, b: unknown): boolean {
  const ka = basic(a), kb = basic(b);
  const valid = (k: string) => k !== "invalid" && k !== "nil";
  if (ka !== kb) {
    if (valid(ka) && valid(kb)) {
      throw new CallError("incompatible types for comparison");
    }
    return false;
  }
  if (ka === "other") throw new CallError("non-comparable type");
  return a === b || !valid(ka);
}

/** Go's lt: numbers and strings, of one kind. */
function less(a: unknown, b: unknown): boolean {
  const ka = basic(a), kb = basic(b);
  if (ka !== "number" && ka !== "string") {
    throw new CallError("invalid type for comparison");
  }
  if (ka !== kb) throw new CallError("incompatible types for comparison");
  return (a as number) < (b as number);
}

/** Go's strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  return s.replace(
    /(^|[^\p{L}\p{N}_'])(\p{L})/gu,
    (_, sep: string, c: string) => sep + c.toUpperCase(),
  );
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1");
}

/** Go's fmt.Sprintf for the verbs templates use. */
export function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  let out = "";
  const re = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g;
  let last = 0;
  for (const m of format.matchAll(re)) {
    out += format.slice(last, m.index);
    last = m.index! + m[0].length;
    const [, flags, w, p, verb] = m;
    if (verb === "%") {
      out += "%";
      continue;
    }
    const width = w === "*" ? Number(args[i++]) : w ? Number(w) : undefined;
    const prec = p === "*"
      ? Number(args[i++])
      : p !== undefined
      ? Number(p)
      : m[0].includes(".")
      ? 0
      : undefined;
    if (i >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[i++];
    let s = formatOne(verb, a, flags, prec);
    if (width !== undefined && s.length < width) {
      s = flags.includes("-")
        ? s.padEnd(width)
        : flags.includes("0") && /[dfeEgGxXob]/.test(verb)
        ? (s[0] === "-"
          ? "-" + s.slice(1).padStart(width - 1, "0")
          : s.padStart(width, "0"))
        : s.padStart(width);
    }
    out += s;
  }
  out += format.slice(last);
  if (i < args.length) {
    out += `%!(EXTRA ${
      args.slice(i).map((a) => `${typeName(a)}=${show(a, false)}`).join(", ")
    })`;
  }
  return out;
}

function formatOne(
  verb: string,
  a: unknown,
  flags: string,
  prec: number | undefined,
): string {
  const k = kindOf(a);
  const bad = () => `%!${verb}(${typeName(a)}=${show(a, false)})`;
  const sign = (s: string, n: number) =>
    n >= 0 && flags.includes("+")
      ? `+${s}`
      : n >= 0 && flags.includes(" ")
      ? ` ${s}`
      : s;
  switch (verb) {
    case "v":
      return k === "float" ? goFloat(a as number) : show(a, false);
    case "s":
      if (k === "string") {
        return prec === undefined
          ? a as string
          : [...(a as string)].slice(0, prec).join("");
      }
      if (k === "slice" || k === "map" || k === "struct") return show(a, false);
      return bad();
    case "q":
      if (k === "string") return goQuote(a as string);
      if (k === "int") return `'${String.fromCodePoint(a as number)}'`;
      return bad();
    case "d":
      return k === "int" ? sign(String(a), a as number) : bad();
    case "t":
      return k === "bool" ? String(a) : bad();
    case "c":
      return k === "int" ? String.fromCodePoint(a as number) : bad();
    case "x":
    case "X": {
      let s: string;
      if (k === "int") s = (a as number).toString(16);
      else if (k === "string") {
        s = [...bytes(a as string)].map((b) => b.toString(16).padStart(2, "0"))
          .join("");
      } else return bad();
      if (flags.includes("#")) s = `0x${s}`;
      return verb === "X" ? s.toUpperCase() : s;
    }
    case "o":
      return k === "int" ? (a as number).toString(8) : bad();
    case "b":
      return k === "int" ? (a as number).toString(2) : bad();
    case "f":
    case "F":
    case "e":
    case "g":
      if (k !== "int" && k !== "float") return bad();
      if (k === "int") return bad();
      if (verb === "e") {
        return sign(
          (a as number).toExponential(prec ?? 6).replace(
            /e([+-])(\d)$/,
            "e$10$2",
          ),
          a as number,
        );
      }
      if (verb === "g") return sign(goFloat(a as number), a as number);
      return sign((a as number).toFixed(prec ?? 6), a as number);
    default:
      return bad();
  }
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    const k = kindOf(v);
    if (k === "slice" || k === "string") {
      if (kindOf(key) !== "int") {
        throw new CallError(
          `cannot index slice/array with type ${typeName(key)}`,
        );
      }
      const len = k === "string"
        ? bytes(v as string).length
        : (v as unknown[]).length;
      const i = key as number;
      if (i < 0 || i >= len) {
        throw new CallError(`index out of range: ${i}`);
      }
      v = k === "string" ? bytes(v as string)[i] : (v as unknown[])[i];
    } else if (k === "map") {
      const m = v as Record<string, unknown>;
      if (typeof key !== "string") {
        throw new CallError(
          `value has type ${typeName(key)}; should be string`,
        );
      }
      if (Object.hasOwn(m, String(key))) v = m[String(key)];
      else {
        // A missing key is the zero value of the element type.
        const vals = Object.values(m);
        v = vals.length > 0 && vals.every((x) => typeof x === "string") ||
            vals.length === 0
          ? ""
          : undefined;
      }
    } else if (k === "nil" || k === "invalid") {
      throw new CallError("index of untyped nil");
    } else {
      throw new CallError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function len(v: unknown): number {
  switch (kindOf(v)) {
    case "string":
      return bytes(v as string).length;
    case "slice":
      return (v as unknown[]).length;
    case "map":
      return Object.keys(v as object).length;
    default:
      throw new CallError(`len of type ${typeName(v)}`);
  }
}

function slice(item: unknown, ...ix: unknown[]): unknown {
  const k = kindOf(item);
  if (k !== "string" && k !== "slice") {
    throw new CallError(`can't slice item of type ${typeName(item)}`);
  }
  const n = k === "string"
    ? bytes(item as string).length
    : (item as unknown[]).length;
  const [lo = 0, hi = n] = ix as number[];
  if (lo < 0 || hi > n || lo > hi) {
    throw new CallError(`index out of range: ${hi > n ? hi : lo}`);
  }
  return k === "string"
    ? text(bytes(item as string).slice(lo, hi))
    : (item as unknown[]).slice(lo, hi);
}

function compare(name: string, ok: (a: unknown, b: unknown) => boolean): Fn {
  return (...args) => {
    arity(args, 2, name);
    return ok(args[0], args[1]);
  };
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") {
      out += " ";
    }
    out += show(a, false);
  });
  return out;
}

/** Every function by name. */
export const FUNCS: Record<string, Fn> = {
  not: (...a) => {
    arity(a, 1, "not");
    return !truth(a[0]);
  },
  len: (...a) => {
    arity(a, 1, "len");
    return len(a[0]);
  },
  index: (item, ...keys) => index(item, ...keys),
  slice: (item, ...ix) => slice(item, ...ix),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new CallError("missing argument for comparison");
    return bs.some((b) => equal(a, b));
  },
  ne: (...a) => {
    arity(a, 2, "ne");
    return !equal(a[0], a[1]);
  },
  lt: compare("lt", less),
  le: compare("le", (a, b) => equal(a, b) || less(a, b)),
  gt: compare("gt", (a, b) => !equal(a, b) && !less(a, b)),
  ge: compare("ge", (a, b) => !less(a, b)),
  print: (...a) => sprint(a),
  println: (...a) => a.map((x) => show(x, false)).join(" ") + "\n",
  printf: (f, ...a) => {
    want(f, "string");
    return sprintf(f as string, a);
  },
  json: (...a) => {
    arity(a, 1, "json");
    return goJson(a[0]);
  },
  join: strFn(
    "join",
    ["[]string", "string"],
    (a: string[], s: string) => a.join(s),
  ),
  split: strFn(
    "split",
    ["string", "string"],
    (s: string, sep: string) => s === "" && sep === "" ? [] : s.split(sep),
  ),
  lower: strFn("lower", ["string"], (s: string) => s.toLowerCase()),
  upper: strFn("upper", ["string"], (s: string) => s.toUpperCase()),
  title: strFn("title", ["string"], title),
  truncate: strFn("truncate", ["string", "int"], (s: string, n: number) => {
    const b = bytes(s);
    return b.length < n ? s : text(b.slice(0, n));
  }),
  pad: strFn(
    "pad",
    ["string", "int", "int"],
    (s: string, p: number, q: number) =>
      s === "" ? s : " ".repeat(p) + s + " ".repeat(q),
  ),
};
