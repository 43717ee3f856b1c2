/**
 * The assertions the tests use, with @std/assert's names (JSR is out of
 * reach here) on top of node:assert/strict.
 */
import * as node from "node:assert/strict";

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  node.ok(cond, msg);
}

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  node.deepStrictEqual(actual, expected, msg);
}

/** Fails unless `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg?: string): void {
  node.match(text, re, msg);
}

/** Fails unless `text` contains `part`. */
export function assertStringIncludes(
  text: string,
  part: string,
  msg?: string,
): void {
  node.ok(
    text.includes(part),
    msg ??
      `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}

/** Fails unless `fn` throws (matching `re` if given); returns the error. */
export function assertThrows(fn: () => unknown, re?: RegExp): Error {
  try {
    fn();
  } catch (e) {
    if (re) node.match(String((e as Error)?.message ?? e), re);
    return e as Error;
  }
  throw new node.AssertionError({ message: "expected the function to throw" });
}

/** Fails unless the promise rejects (matching `re` if given); returns the error. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  re?: RegExp,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (re) node.match(String((e as Error)?.message ?? e), re);
    return e as Error;
  }
  throw new node.AssertionError({ message: "expected the promise to reject" });
}
