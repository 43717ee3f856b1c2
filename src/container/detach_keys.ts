/**
 * --detach-keys: the key sequence that leaves an attached terminal without
 * stopping the container, as Docker and Podman read it.
 */
import { PtdError } from "../runtime/errors.ts";

/** Docker's and Podman's default: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * The bytes of a sequence: comma-separated single characters or ctrl-X
 * (X a letter or one of @[\]^_); "" turns detaching off (no bytes).
 */
export function parseDetachKeys(keys = DEFAULT_DETACH_KEYS): number[] {
  if (keys === "") return [];
  return keys.split(",").map((k) => {
    if (k.length === 1) return k.charCodeAt(0);
    const m = /^ctrl-([a-z@\[\\\]^_])$/.exec(k);
    if (!m) {
      throw new PtdError(
        "cannot-invoke",
        `invalid detach keys: Unknown character: '${k}'`,
      );
    }
    return m[1].toUpperCase().charCodeAt(0) - 0x40;
  });
}

/**
 * Splits input at the detach keys: the bytes to send, and whether the
 * sequence was typed (`held` carries a partial sequence between chunks).
 */
export function scanDetach(
  chunk: Uint8Array,
  keys: number[],
  held: { n: number },
): { send: Uint8Array<ArrayBuffer>; detach: boolean } {
  const out: number[] = [];
  for (const b of chunk) {
    if (keys.length > 0 && b === keys[held.n]) {
      held.n++;
      if (held.n === keys.length) {
        return { send: new Uint8Array(out), detach: true };
      }
      continue;
    }
    out.push(...keys.slice(0, held.n));
    held.n = 0;
    if (keys.length > 0 && b === keys[0]) held.n = 1;
    else out.push(b);
  }
  return { send: new Uint8Array(out), detach: false };
}
