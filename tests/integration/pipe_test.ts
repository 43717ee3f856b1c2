/**
 * Issue 12: a closed stdout ends a command quietly, as in Podman. Podman 4.3
 * (rootless, runc) measured with `set -o pipefail`: `podman save IMAGE |
 * head -c 10`, `podman logs C | head -1` and `podman logs -f C | head -1`
 * all end with 141 (Go dies of SIGPIPE on a write to a broken fd 1 or 2)
 * and print nothing; an error that is not the pipe's is still reported.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { storeBusyboxImage } from "../busybox_image.ts";
import { ptd, ptdCommand, type Sandbox, withSandbox } from "../helpers.ts";

/** How a ptd ended whose stdout or stderr was closed by its reader. */
interface Ended {
  status: Deno.CommandStatus;
  /** What it wrote to the other stream. */
  other: string;
  closed: "stdout" | "stderr";
}

/**
 * Runs `ptd ARGS`, reads the first chunk of `closed` (unless `readFirst` is
 * false), then closes it as `head` does once it has enough.
 */
async function intoClosedPipe(
  sb: Sandbox,
  args: string[],
  closed: "stdout" | "stderr" = "stdout",
  readFirst = true,
): Promise<Ended> {
  const child = ptdCommand(sb, args).spawn();
  const other = new Response(
    closed === "stdout" ? child.stderr : child.stdout,
  ).text();
  const reader = child[closed].getReader();
  if (readFirst) assert(!(await reader.read()).done, `no ${closed} at all`);
  await reader.cancel();
  return { status: await child.status, other: await other, closed };
}

/** Podman's end: killed by SIGPIPE (141 in a shell), no message. */
function diedOfSigpipe(e: Ended) {
  assertEquals(
    e.status.signal,
    "SIGPIPE",
    `ended ${JSON.stringify(e.status)}: ${e.other.slice(0, 200)}`,
  );
  assertEquals(e.status.code, 141);
  if (e.closed === "stdout") assertEquals(e.other, "");
}

Deno.test("save into a closed pipe dies of SIGPIPE, quietly; other errors still speak", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "bb:test");
    diedOfSigpipe(await intoClosedPipe(sb, ["save", "bb:test"]));
    // Never wrote a byte: podman says "Error: nosuch: image not known", 125.
    const missing = await intoClosedPipe(
      sb,
      ["save", "nosuch"],
      "stdout",
      false,
    );
    assertEquals(missing.status.code, 125);
    assertMatch(missing.other, /^Error: [^\n]*nosuch[^\n]*\n$/);
  });
});

Deno.test("logs and logs -f into a closed stdout or stderr die of SIGPIPE, quietly", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "bb:test");
    // More than a pipe holds (64 KiB) on each stream, so writes must block
    // until the reader goes, and then fail.
    const up = await ptd(sb, [
      "run",
      "-d",
      "--name",
      "up",
      "bb:test",
      "sh",
      "-c",
      "seq 1 30000; seq 1 30000 >&2; sleep 1000",
    ]);
    assertEquals(up.code, 0, up.stderr);
    for (let i = 0; i < 100; i++) {
      if ((await ptd(sb, ["logs", "up"])).stderr.endsWith("30000\n")) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    diedOfSigpipe(await intoClosedPipe(sb, ["logs", "up"]));
    diedOfSigpipe(await intoClosedPipe(sb, ["logs", "up"], "stderr"));
    // Still writing what was logged when its reader goes.
    diedOfSigpipe(await intoClosedPipe(sb, ["logs", "-f", "up"]));
  });
});
