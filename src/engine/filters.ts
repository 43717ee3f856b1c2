/**
 * `--filter KEY=VALUE` as Podman reads it, for containers, images and
 * volumes alike: the values of one key are alternatives (any may match),
 * different keys must all match, and labels are the exception (every
 * label filter must match). Parsing is separate from matching so that a
 * bad filter fails before anything is listed or removed.
 */
import { invalid } from "../runtime/errors.ts";

/** Filters by key, each with its values in the order given. */
export type Filters = Map<string, string[]>;

/** What a kind of object's filters accept, and Podman's words for the rest. */
export interface FilterSyntax {
  keys: readonly string[];
  /** The message for a key not in `keys`. */
  unknown: (key: string) => string;
  /** The message for an argument without "=". */
  malformed: (text: string) => string;
}

/** The message Podman's common filter parser gives for "key" alone. */
export const FORM_ERROR = (text: string) =>
  `filter input must be in the form of filter=value: ${text} is invalid`;

/** Parses `--filter` arguments; a bad one fails in Podman's words. */
export function parseFilters(
  args: readonly string[],
  syntax: FilterSyntax,
): Filters {
  const out: Filters = new Map();
  for (const text of args) {
    const i = text.indexOf("=");
    if (i < 0) throw invalid(syntax.malformed(text));
    const key = text.slice(0, i);
    if (!syntax.keys.includes(key)) throw invalid(syntax.unknown(key));
    out.set(key, [...out.get(key) ?? [], text.slice(i + 1)]);
  }
  return out;
}

/**
 * Whether `labels` satisfy every `label=` value: `KEY` (present) or
 * `KEY=VALUE` (that value).
 */
export function labelsMatch(
  values: readonly string[],
  labels: Record<string, string>,
): boolean {
  return values.every((v) => {
    const j = v.indexOf("=");
    return j < 0
      ? Object.hasOwn(labels, v)
      : labels[v.slice(0, j)] === v.slice(j + 1);
  });
}

/**
 * A time as Podman's filters and `logs --since` read it: Unix seconds,
 * a date (RFC 3339), or a Go duration (1h30m) before `now`; in ms.
 */
export function parseTime(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join("") === value) {
    return now - parts.reduce((t, p) => t + Number(p[1]) * units[p[2]], 0);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid time ${JSON.stringify(value)}`);
  return t;
}

/** A predicate over objects of type T, given a filter's values. */
export type Matcher<T> = (values: string[]) => (x: T) => boolean;

/**
 * One predicate for all `filters`: each key's matcher (built once, so a
 * bad value fails before anything is listed) and all of them must hold.
 */
export function compileFilters<T>(
  filters: Filters,
  matchers: Record<string, Matcher<T>>,
): (x: T) => boolean {
  const tests = [...filters].map(([key, values]) => matchers[key](values));
  return (x) => tests.every((t) => t(x));
}
