/**
 * Plain JavaScript data seen as Go values: which Go kind a value is, how
 * fmt's %v prints it, its truth in if/with, and encoding/json's output.
 * `undefined` is Go's invalid value (a missing map key: `<no value>`),
 * `null` a nil pointer, a function a method. Objects are maps when marked
 * (src/runtime/gomap.ts) or when a key is no Go field name, else structs.
 */
import { GO_MAP, GO_TYPE, goTimeString } from "../../runtime/gomap.ts";

/** The Go kind of a value, as far as templates tell them apart. */
export type Kind =
  | "invalid"
  | "nil"
  | "string"
  | "int"
  | "float"
  | "bool"
  | "slice"
  | "map"
  | "struct"
  | "func"
  | "time";

type Obj = Record<string | symbol, unknown>;

/**
 * A Go time.Time: printed as Go's Time.String() ("2006-01-02
 * 15:04:05.999999999 -0700 MST", in UTC), JSON as RFC 3339.
 */
export class GoTime {
  constructor(readonly iso: string) {}

  /** RFC 3339, as encoding/json writes a time. */
  toJSON(): string {
    return this.iso;
  }

  /** Go's Time.String() of the instant, in UTC. */
  toString(): string {
    return goTimeString(this.iso);
  }
}

/** A function call failed: Go says "error calling NAME: WHAT". */
export class CallError extends Error {}

/** An argument of the wrong type: Go blames the argument, not the call. */
export class ArgError extends CallError {
  constructor(readonly index: number, message: string) {
    super(message);
  }
}

const FIELD = /^[A-Z][A-Za-z0-9_]*$/;

/** The kind of `v`. */
export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case "undefined":
      return "invalid";
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "boolean":
      return "bool";
    case "function":
      return "func";
  }
  if (v === null) return "nil";
  if (Array.isArray(v)) return "slice";
  if (v instanceof GoTime) return "time";
  const o = v as Obj;
  // A marked struct keeps its fields in order even under json tag names.
  if (
    o[GO_MAP] || (!o[GO_TYPE] && Object.keys(o).some((k) => !FIELD.test(k)))
  ) {
    return "map";
  }
  return "struct";
}

function elemType(vs: unknown[]): string {
  if (vs.length > 0 && vs.every((x) => typeof x === "string")) return "string";
  return "interface {}";
}

/** The Go type name Podman's errors print for `v`. */
export function typeName(v: unknown): string {
  const k = kindOf(v);
  switch (k) {
    case "slice":
      return `[]${elemType(v as unknown[])}`;
    case "map":
      return `map[string]${elemType(Object.values(v as Obj))}`;
    case "struct":
      return String((v as Obj)[GO_TYPE] ?? "interface {}");
    case "nil":
    case "invalid":
      return "<nil>";
    case "float":
      return "float64";
    case "time":
      return "time.Time";
    default:
      return k;
  }
}

/** A map's keys in Go's printing order (sorted). */
export function mapKeys(m: object): string[] {
  return Object.keys(m).sort();
}

/** Go's fmt %v of `v`. */
export function show(v: unknown, top = true): string {
  switch (kindOf(v)) {
    case "invalid":
      return top ? "<no value>" : "<nil>";
    case "nil":
      return "<nil>";
    case "float":
      return goFloat(v as number);
    case "slice":
      return `[${(v as unknown[]).map((x) => show(x, false)).join(" ")}]`;
    case "map":
      return `map[${
        mapKeys(v as object).map((k) => `${k}:${show((v as Obj)[k], false)}`)
          .join(" ")
      }]`;
    case "struct":
      return `{${
        Object.values(v as Obj).filter((x) => typeof x !== "function").map((
          x,
        ) => show(x, false)).join(" ")
      }}`;
    default:
      return String(v);
  }
}

/** Go's %v of a float64 (strconv 'g' with the shortest exact digits). */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) {
    return Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";
  }
  const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return String(n);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case "invalid":
    case "nil":
      return false;
    case "slice":
      return (v as unknown[]).length > 0;
    case "map":
      return Object.keys(v as object).length > 0;
    case "struct":
    case "func":
    case "time":
      return true;
    default:
      return !!v;
  }
}

/**
 * encoding/json's text for `v`: maps with sorted keys, structs in field
 * order, HTML left alone (Podman turns EscapeHTML off); `indent` as
 * MarshalIndent's.
 */
export function goJson(
  v: unknown,
  indent = "",
  pad = "",
  jsoniter = false,
): string {
  const nl = indent ? `\n${pad}${indent}` : "";
  const close = indent ? `\n${pad}` : "";
  const sep = indent ? ": " : ":";
  if (v !== null && typeof v === "object" && "toJSON" in v) {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  if (v !== null && typeof v === "object" && (v as Obj)[GO_MAP] === "nil") {
    return "null";
  }
  switch (kindOf(v)) {
    case "invalid":
    case "nil":
    case "func":
      return "null";
    case "string":
      return JSON.stringify(v).replace(
        /[\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16)}`,
      );
    case "slice": {
      const a = v as unknown[];
      if (a.length === 0) return "[]";
      return `[${nl}${
        a.map((x) => goJson(x, indent, pad + indent, jsoniter)).join(`,${nl}`)
      }${close}]`;
    }
    case "map":
    case "struct": {
      const o = v as Obj;
      const keys = kindOf(v) === "map" ? mapKeys(o) : Object.keys(o);
      const kept = keys.filter((k) => o[k] !== undefined);
      if (kept.length === 0) {
        return jsoniter && indent ? `{${nl}${close}}` : "{}";
      }
      return `{${nl}${
        kept.map((k) =>
          `${JSON.stringify(k)}${sep}${
            goJson(o[k], indent, pad + indent, jsoniter)
          }`
        ).join(`,${nl}`)
      }${close}}`;
    }
    default:
      return String(v);
  }
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * A copy of an inspect document as Podman's template sees it: every RFC
 * 3339 string there is a time.Time.
 */
export function withTimes(v: unknown): unknown {
  if (typeof v === "string") return RFC3339.test(v) ? new GoTime(v) : v;
  if (Array.isArray(v)) return v.map(withTimes);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string | symbol, unknown> = {};
  // Own non-enumerable fields too: fields a template sees, JSON does not.
  for (const k of Object.getOwnPropertyNames(v)) {
    out[k] = withTimes((v as Obj)[k]);
  }
  for (const k of Object.getOwnPropertySymbols(v)) out[k] = (v as Obj)[k];
  return out;
}
