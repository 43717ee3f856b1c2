/** Which objects a command acts on, and how it reports each failure. */
import type { ErrorKind } from "../runtime/errors.ts";
import { PtdError } from "../runtime/errors.ts";
import { type Engine, userEngine } from "../engine/engine.ts";

/** The exit code of a command whose acts failed with errors of `kinds`. */
export type ExitPolicy = (kinds: ErrorKind[]) => number;

/** Most commands: 125 whatever went wrong. */
export const ENGINE_ERROR: ExitPolicy = () => 125;

/**
 * Podman's `rm`, `rmi` and `volume rm`: 1 when something named was not
 * found, else 2 when one was in use (a conflict), else 125.
 */
export const REMOVAL: ExitPolicy = (kinds) =>
  kinds.includes("not-found") ? 1 : kinds.includes("conflict") ? 2 : 125;

/** Prints one failure as Podman does: one line on stderr. */
export function reportError(e: unknown) {
  console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
}

const kindOf = (e: unknown): ErrorKind =>
  e instanceof PtdError ? e.kind : "internal";

/**
 * Runs `fn` for each named object like Docker: a failure is reported for
 * that name and the others still go; the exit code is 0 when all went,
 * else what `policy` makes of the kinds of the failures.
 */
export async function eachRef(
  refs: string[],
  fn: (e: Engine, ref: string) => Promise<void>,
  policy: ExitPolicy = ENGINE_ERROR,
): Promise<number> {
  const e = userEngine();
  const kinds: ErrorKind[] = [];
  for (const ref of refs) {
    try {
      await fn(e, ref);
    } catch (err) {
      kinds.push(kindOf(err));
      reportError(err);
    }
  }
  return kinds.length === 0 ? 0 : policy(kinds);
}

/**
 * Reports the failures among `errors` (undefined: that one went), after
 * the successes as Podman prints them, and returns the exit code.
 */
export function reportFailures(
  errors: unknown[],
  policy: ExitPolicy = ENGINE_ERROR,
): number {
  const failed = errors.filter((e) => e !== undefined);
  failed.forEach(reportError);
  return failed.length === 0 ? 0 : policy(failed.map(kindOf));
}

/** A command's single failure, its exit code decided by `policy`. */
export async function withPolicy<T>(
  policy: ExitPolicy,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PtdError)) throw err;
    throw new PtdError(err.kind, err.message, policy([err.kind]));
  }
}
