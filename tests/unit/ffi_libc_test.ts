import { assert, assertEquals, assertRejects } from "../assert.ts";
import { NotOnPath, spawnWait } from "../../ffi/spawn.ts";
import { libc } from "../../ffi/libc.ts";
import { closeFd, dupOnto, inheritablePipe } from "../../ffi/fd.ts";
import { receiveFrom, sendTo, sockaddrIn, udpBound } from "../../ffi/socket.ts";

Deno.test("spawnWait: exit code, stderr captured, stdout discarded", async () => {
  assertEquals(
    await spawnWait(["sh", "-c", "echo out; echo err >&2; exit 3"]),
    { code: 3, stderr: "err\n" },
  );
  assertEquals(await spawnWait(["sh", "-c", "kill -9 $$"]), {
    code: 137,
    stderr: "",
  });
  // stdin and stdout are /dev/null, not ours: ours is made a pipe for the
  // check, since the runner's own stdin may well be /dev/null already.
  const F_DUPFD_CLOEXEC = 1030;
  const saved = libc().fcntl(0, F_DUPFD_CLOEXEC, 100);
  const [r, w] = inheritablePipe();
  dupOnto(r, 0);
  try {
    assertEquals(
      await spawnWait([
        "sh",
        "-c",
        // expanded before the shell applies the redirection
        'echo "$(readlink /proc/$$/fd/0 /proc/$$/fd/1)" >&2',
      ]),
      { code: 0, stderr: "/dev/null\n/dev/null\n" },
    );
  } finally {
    dupOnto(saved, 0);
    [saved, r, w].forEach(closeFd);
  }
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

Deno.test("socket: a raw UDP socket sends, and receives with the sender's address", async () => {
  const { default: dgram } = await import("node:dgram");
  const fd = udpBound("127.0.0.1", 0);
  const peer = dgram.createSocket("udp4");
  try {
    await new Promise<void>((ok) => peer.bind(0, "127.0.0.1", () => ok()));
    const peerAddr = sockaddrIn("127.0.0.1", peer.address().port);
    const got = new Promise<{ text: string; port: number }>((ok) =>
      peer.once(
        "message",
        (m, info) => ok({ text: new TextDecoder().decode(m), port: info.port }),
      )
    );
    assert(sendTo(fd, new TextEncoder().encode("hi"), peerAddr));
    const { text, port } = await got;
    assertEquals(text, "hi");
    peer.send("back", port, "127.0.0.1");
    const buf = new Uint8Array(64);
    const r = await receiveFrom(fd, buf);
    assertEquals(new TextDecoder().decode(buf.subarray(0, r!.n)), "back");
    assertEquals(r!.from, peerAddr);
  } finally {
    peer.close();
    closeFd(fd);
  }
});
