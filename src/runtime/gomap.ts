/**
 * What a Go template needs to know about plain data that JSON cannot say:
 * whether an object is a Go map (a missing key is `<no value>`, printed as
 * `map[k:v]` with sorted keys) or a struct (a missing field is an error,
 * printed as `{v1 v2}`), and a struct's Go type name for error messages.
 * Presenters mark their objects; the marks are symbols, so JSON output
 * does not see them. Also how Go prints times and durations. A leaf
 * module, usable from every layer.
 */

/** Marks a Go map. */
export const GO_MAP: unique symbol = Symbol.for("ptd.goMap");
/** A struct's Go type name, as Podman's template errors print it. */
export const GO_TYPE: unique symbol = Symbol.for("ptd.goType");

/**
 * A copy of `m` marked as a Go map; null or undefined make a nil map
 * (printed `map[]`, JSON null).
 */
export function goMap<T extends object>(m: T | null | undefined): T {
  return Object.defineProperty({ ...(m ?? {}) }, GO_MAP, {
    value: m ? "map" : "nil",
  }) as T;
}

/** `o` marked as a value of the Go struct type `name`. */
export function goStruct<T extends object>(o: T, name: string): T {
  return Object.defineProperty(o, GO_TYPE, { value: name });
}

/**
 * Go's Time.String() of an RFC 3339 time, in UTC ("2006-01-02
 * 15:04:05.999999999 +0000 UTC"): how a template prints a time.Time.
 */
export function goTimeString(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? "").replace(/0+$/, "").replace(/^\.$/, "");
  return `${m[1]} ${m[2]}${frac} +0000 UTC`;
}

/** go-units' HumanDuration of `ms`: "5 seconds", "About an hour"... */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(m / 60);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
