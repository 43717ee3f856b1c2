/**
 * Pull progress on stderr. Kept apart from pull.ts so that a `run` of an
 * image already here loads none of the registry code.
 */
import type { PullProgress } from "../image/pull.ts";
import { humanSize } from "../runtime/sizes.ts";

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

/**
 * A pull progress display on stderr: on a terminal one live line per blob,
 * otherwise Podman's quiet lines, one per finished step.
 */
export function pullReporter(
  quiet: boolean,
): ((p: PullProgress) => void) | undefined {
  if (quiet) return undefined;
  const err = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s));
  if (!Deno.stderr.isTerminal()) {
    const layers = new Set<string>();
    return (p) => {
      if (p.kind === "trying") err(`Trying to pull ${p.ref}...\n`);
      else if (p.kind === "resolved") {
        for (const b of p.blobs) layers.add(b.digest);
        err("Getting image source signatures\n");
      } else if (p.kind === "blob-done") {
        const what = layers.has(p.digest) ? "blob" : "config";
        err(
          `Copying ${what} ${p.digest} ${
            p.cached ? "skipped: already exists" : "done"
          }\n`,
        );
      } else if (p.kind === "stored") {
        err("Writing manifest to image destination\n");
      }
    };
  }
  const order: string[] = [];
  const lines = new Map<string, string>();
  let drawn = 0;
  const redraw = () => {
    // Move up over what was drawn and repaint every line in place.
    let s = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const d of order) s += `\r\x1b[2K${lines.get(d)}\n`;
    drawn = order.length;
    err(s);
  };
  let last = 0;
  return (p) => {
    if (p.kind === "trying") err(`Trying to pull ${p.ref}...\n`);
    if (p.kind === "resolved") {
      for (const b of p.blobs) {
        order.push(b.digest);
        lines.set(b.digest, `${short(b.digest)}: waiting`);
      }
    }
    if (p.kind === "blob" && lines.has(p.digest)) {
      const pct = p.size > 0 ? Math.floor((p.done / p.size) * 30) : 30;
      lines.set(
        p.digest,
        `${short(p.digest)}: [${"=".repeat(pct)}${" ".repeat(30 - pct)}] ${
          humanSize(p.done)
        } / ${humanSize(p.size)}`,
      );
      if (Date.now() - last < 100) return;
      last = Date.now();
    }
    if (p.kind === "blob-done" && lines.has(p.digest)) {
      lines.set(
        p.digest,
        `${short(p.digest)}: ${p.cached ? "already exists" : "done"}`,
      );
    }
    if (p.kind === "unpack") {
      lines.set(p.digest, `${short(p.digest)}: unpacking`);
    }
    if (p.kind === "stored") {
      for (const d of order) lines.set(d, `${short(d)}: done`);
    }
    redraw();
  };
}
