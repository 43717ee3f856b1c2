import { assertEquals, assertThrows } from "../assert.ts";
import { parseTime } from "../../src/engine/filters.ts";
import { statusText } from "../../src/container/ps_row.ts";
import { humanDuration } from "../../src/runtime/gomap.ts";
import { parseRestart, shouldRestart } from "../../src/container/restart.ts";
import { parseSignal } from "../../src/container/signals.ts";
import { createdState } from "../../src/container/config.ts";
import {
  frame,
  frames,
  STDIN_CLOSED,
  STDOUT,
} from "../../src/container/attach.ts";
import {
  parseDetachKeys,
  scanDetach,
} from "../../src/container/detach_keys.ts";

const DETACH_KEYS = parseDetachKeys();

Deno.test("restart: Docker's policies and counts", () => {
  assertEquals(parseRestart("on-failure:3"), {
    name: "on-failure",
    maximumRetryCount: 3,
  });
  assertEquals(parseRestart("always").name, "always");
  assertThrows(() => parseRestart("always:2"));
  assertThrows(() => parseRestart("sometimes"));
  const p = parseRestart("on-failure:3");
  assertEquals([0, 1, 2, 3].map((n) => shouldRestart(p, 1, n)), [
    true,
    true,
    true,
    false,
  ]);
  assertEquals(shouldRestart(p, 0, 0), false);
  assertEquals(shouldRestart(parseRestart("on-failure"), 1, 99), true);
  assertEquals(shouldRestart(parseRestart("no"), 1, 0), false);
  assertEquals(shouldRestart(parseRestart("unless-stopped"), 0, 99), true);
});

Deno.test("signals by name and number", () => {
  assertEquals(
    ["SIGTERM", "term", "KILL", "9", "usr1"].map(parseSignal),
    [15, 15, 9, 9, 10],
  );
  assertThrows(() => parseSignal("SIGNOPE"));
});

Deno.test("status texts and human durations match Docker's", () => {
  assertEquals(humanDuration(500), "Less than a second");
  assertEquals(humanDuration(3000), "3 seconds");
  assertEquals(humanDuration(90_000), "About a minute");
  assertEquals(humanDuration(3 * 3_600_000), "3 hours");
  assertEquals(humanDuration(3 * 86_400_000), "3 days");
  const now = Date.parse("2024-01-01T00:01:00Z");
  assertEquals(statusText(createdState(), now), "Created");
  assertEquals(
    statusText({
      ...createdState(),
      status: "exited",
      exitCode: 3,
      finishedAt: "2024-01-01T00:00:58Z",
    }, now),
    "Exited (3) 2 seconds ago",
  );
  assertEquals(
    statusText({
      ...createdState(),
      status: "running",
      startedAt: "2024-01-01T00:00:57Z",
    }, now),
    "Up 3 seconds ago",
  );
});

Deno.test("--since/--until take durations, Unix seconds and RFC 3339", () => {
  const now = 1_700_000_000_000;
  assertEquals(parseTime("1m30s", now), now - 90_000);
  assertEquals(parseTime("1700000000", now), now);
  assertEquals(parseTime("2024-01-01T00:00:00Z", now), 1704067200000);
  assertThrows(() => parseTime("yesterday", now));
});

Deno.test("attach: frames survive any cut; detach keys across chunks", async () => {
  const bytes = new Uint8Array([
    ...frame(STDOUT, new TextEncoder().encode("hi")),
    ...frame(STDIN_CLOSED),
  ]);
  const cut = new ReadableStream<Uint8Array>({
    start(c) {
      for (const b of bytes) c.enqueue(new Uint8Array([b]));
      c.close();
    },
  });
  const got = [];
  for await (const [k, d] of frames(cut)) got.push([k, [...d]]);
  assertEquals(got, [[STDOUT, [104, 105]], [STDIN_CLOSED, []]]);
  const held = { n: 0 };
  const a = scanDetach(new Uint8Array([1, 0x10]), DETACH_KEYS, held);
  assertEquals([[...a.send], a.detach], [[1], false]);
  const b = scanDetach(new Uint8Array([0x11, 2]), DETACH_KEYS, held);
  assertEquals([[...b.send], b.detach], [[], true]);
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p goes through, the rest detaches
  const again = scanDetach(new Uint8Array([0x10, 0x10, 0x11]), DETACH_KEYS, {
    n: 0,
  });
  assertEquals([[...again.send], again.detach], [[0x10], true]);
  const c = scanDetach(new Uint8Array([0x10, 3]), DETACH_KEYS, { n: 0 });
  assertEquals([[...c.send], c.detach], [[0x10, 3], false]);
});

Deno.test("detach keys: Docker's names, none with an empty sequence", () => {
  assertEquals(DETACH_KEYS, [0x10, 0x11]);
  assertEquals(parseDetachKeys("ctrl-a,x,ctrl-@,ctrl-_"), [1, 0x78, 0, 0x1f]);
  assertEquals(parseDetachKeys(""), []);
  const none = scanDetach(new Uint8Array([0x10, 0x11]), [], { n: 0 });
  assertEquals([[...none.send], none.detach], [[0x10, 0x11], false]);
  assertThrows(() => parseDetachKeys("ctrl-1"), /Unknown character: 'ctrl-1'/);
});
