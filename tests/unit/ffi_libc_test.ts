import { assert, assertEquals, assertRejects } from "../assert.ts";
import { NotOnPath, spawnWait } from "../../ffi/spawn.ts";
import { libc } from "../../ffi/libc.ts";

Deno.test("spawnWait: exit code, stderr captured, stdout discarded", async () => {
  assertEquals(
    await spawnWait(["sh", "-c", "echo out; echo err >&2; exit 3"]),
    { code: 3, stderr: "err\n" },
  );
  assertEquals(await spawnWait(["sh", "-c", "kill -9 $$"]), {
    code: 137,
    stderr: "",
  });
  // stdin is /dev/null, not ours.
  assertEquals(await spawnWait(["sh", "-c", "cat; echo done >&2"]), {
    code: 0,
    stderr: "done\n",
  });
});

Deno.test("spawnWait: a program not on PATH is NotOnPath", async () => {
  const e = await assertRejects(() => spawnWait(["ptd-no-such-tool"]));
  assert(e instanceof NotOnPath, String(e));
});

Deno.test("libc: symbols are bound on first use, once", () => {
  const c = libc();
  assertEquals(c.umask, c.umask);
  const old = c.umask(0o22);
  assertEquals(c.umask(old), 0o22);
});
