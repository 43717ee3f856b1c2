/**
 * ptd's one error taxonomy. Every user-facing failure is a PtdError of a
 * kind; each front end maps the kind to what it speaks (the CLI to Podman's
 * exit codes, the REST API to an HTTP status), and the error crosses
 * processes (init -> monitor -> CLI) as data, never as text to re-parse.
 * A leaf module: it imports nothing, so every layer may use it.
 */

/** What went wrong, as far as the caller can act on it. */
export type ErrorKind =
  | "not-found"
  | "conflict"
  | "invalid"
  | "cannot-invoke"
  | "command-not-found"
  | "internal";

/** Exit codes of Docker/Podman: engine error, cannot invoke, not found. */
export const EXIT_ENGINE = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

/** An error as plain JSON data, the shape that crosses processes. */
export interface ErrorData {
  kind: ErrorKind;
  message: string;
  exitCode: number;
}

const KINDS: readonly ErrorKind[] = [
  "not-found",
  "conflict",
  "invalid",
  "cannot-invoke",
  "command-not-found",
  "internal",
];

function defaultExitCode(kind: ErrorKind): number {
  if (kind === "cannot-invoke") return EXIT_CANNOT_INVOKE;
  if (kind === "command-not-found") return EXIT_NOT_FOUND;
  return EXIT_ENGINE;
}

/** A failure the user is told about in one line. */
export class PtdError extends Error {
  readonly exitCode: number;

  constructor(readonly kind: ErrorKind, message: string, exitCode?: number) {
    super(message);
    this.name = "PtdError";
    this.exitCode = exitCode ?? defaultExitCode(kind);
  }

  /** The status a REST API answers with. */
  get httpStatus(): number {
    switch (this.kind) {
      case "not-found":
        return 404;
      case "conflict":
        return 409;
      case "invalid":
        return 400;
      default:
        return 500;
    }
  }

  /** JSON-safe data, for a pipe or a socket to another process. */
  toData(): ErrorData {
    return { kind: this.kind, message: this.message, exitCode: this.exitCode };
  }

  /** The error `toData` described; anything else is an internal error. */
  static fromData(d: unknown): PtdError {
    const o = (typeof d === "object" && d !== null ? d : {}) as Record<
      string,
      unknown
    >;
    const kind = KINDS.includes(o.kind as ErrorKind)
      ? o.kind as ErrorKind
      : "internal";
    const message = typeof o.message === "string"
      ? o.message
      : `malformed error report: ${JSON.stringify(d) ?? String(d)}`;
    const code = Number.isInteger(o.exitCode)
      ? o.exitCode as number
      : undefined;
    return new PtdError(kind, message, code);
  }
}

/** The error a JSON text (from `toData`) describes; tolerant of garbage. */
export function errorFromJson(text: string): PtdError {
  try {
    return PtdError.fromData(JSON.parse(text));
  } catch {
    return new PtdError("internal", text.trim() || "unknown error");
  }
}

/**
 * Writes `e` as a report (its `toData` JSON) to `out`: how a helper in
 * another process hands its error to the parent, which reads it back with
 * `errorFromJson`.
 */
export function writeErrorReport(
  out: { writeSync(p: Uint8Array): number },
  e: unknown,
): void {
  out.writeSync(
    new TextEncoder().encode(JSON.stringify(asPtdError(e).toData())),
  );
}

/** Any thrown value as a PtdError: a plain Error is an internal one. */
export function asPtdError(e: unknown): PtdError {
  if (e instanceof PtdError) return e;
  return new PtdError("internal", e instanceof Error ? e.message : String(e));
}

/** Whether `e` is a PtdError of `kind`. */
export function isKind(e: unknown, kind: ErrorKind): e is PtdError {
  return e instanceof PtdError && e.kind === kind;
}

/** Something named does not exist. */
export const notFound = (message: string) => new PtdError("not-found", message);
/** The object is in a state (or a name is taken) that forbids the request. */
export const conflict = (message: string, exitCode?: number) =>
  new PtdError("conflict", message, exitCode);
/** The request itself is malformed. */
export const invalid = (message: string) => new PtdError("invalid", message);
