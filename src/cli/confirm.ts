/**
 * The question the prune commands ask without -f, as Podman asks it: on
 * stdout, and answered from stdin whether or not it is a terminal (a
 * script pipes "y" in); no answer at all is an error, as Podman's "EOF".
 */
import { invalid } from "../runtime/errors.ts";

/** One line of stdin, read unbuffered so nothing after it is consumed. */
function readAnswer(): string {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  for (;;) {
    const n = Deno.stdin.readSync(one);
    if (n === null || n === 0) throw invalid("EOF");
    if (one[0] === 0x0a) break;
    bytes.push(one[0]);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * Prints `warning` (its own lines) and Podman's question; true when the
 * answer starts with y or Y.
 */
export function askToContinue(warning: string): boolean {
  Deno.stdout.writeSync(
    new TextEncoder().encode(
      `${warning}\nAre you sure you want to continue? [y/N] `,
    ),
  );
  return readAnswer().toLowerCase().startsWith("y");
}
