import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import { NotOnPath, spawnWait } from "../../ffi/spawn.ts";
import { check, cstr, libc, rawSyscall } from "../../ffi/libc.ts";
import { closeFd, dupOnto, inheritablePipe, readerGone } from "../../ffi/fd.ts";
import { SYSCALL_NUMBERS } from "../../ffi/constants.ts";
import { readFd } from "../../ffi/pty.ts";
import { syscallNumbers } from "../../src/security/bpf.ts";
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

Deno.test("libc: the syscall numbers are the kernel's, on both architectures", () => {
  for (const [arch, numbers] of Object.entries(SYSCALL_NUMBERS)) {
    const kernel = syscallNumbers(arch);
    for (const [name, nr] of Object.entries(numbers)) {
      assertEquals(nr, kernel.get(name), `${arch} ${name}`);
    }
  }
});

Deno.test("libc: calls through syscall() return and fail as glibc's do", () => {
  const c = libc();
  assertThrows(() => check("close", c.close(-1)), /EBADF/);
  const [r, w] = inheritablePipe();
  try {
    // dup2 onto itself: the fd if it is open (dup3 would say EINVAL).
    assertEquals(c.dup2(w, w), w);
    assertThrows(() => check("dup2", c.dup2(1000, 1000)), /EBADF/);
    // 64-bit arguments and results, a buffer at an offset.
    const data = new TextEncoder().encode("xhello");
    assertEquals(c.write(w, data.subarray(1), 5n), 5n);
    const got = new Uint8Array(8);
    assertEquals(c.read(r, got.subarray(2), 8n), 5n);
    assertEquals(new TextDecoder().decode(got.subarray(2, 7)), "hello");
    // glibc refuses a dev_t the kernel's 32 bits cannot hold.
    assertThrows(() =>
      check(
        "mknodat",
        c.mknodat(-100, cstr("/nonexistent-ptd/x"), 0, 1n << 32n),
      ), /EINVAL/);
    assertThrows(() => check("futimens", c.futimens(-100, null)), /EBADF/);
    closeFd(r);
    assert(readerGone(w));
  } finally {
    closeFd(w);
  }
});

Deno.test("libc: a call that waits runs on a worker and fills its buffer", async () => {
  const [r, w] = inheritablePipe();
  try {
    const buf = new Uint8Array(4);
    const reading = readFd(r, buf);
    libc().write(w, new Uint8Array([7, 8]), 2n);
    assertEquals(await reading, 2);
    assertEquals([...buf.subarray(0, 2)], [7, 8]);
  } finally {
    [r, w].forEach(closeFd);
  }
});

Deno.test("libc: signal_default restores SIGPIPE's default action", () => {
  const SIGPIPE = 13;
  const ignored = () =>
    (BigInt(
      "0x" + Deno.readTextFileSync("/proc/self/status").match(
        /SigIgn:\s*(\w+)/,
      )![1],
    ) >> BigInt(SIGPIPE - 1)) & 1n;
  assertEquals(ignored(), 1n); // Deno's runtime ignores it
  libc().signal_default(SIGPIPE);
  try {
    assertEquals(ignored(), 0n);
  } finally {
    // struct sigaction with SIG_IGN (1), as Deno had it.
    const act = new BigUint64Array([1n, 0n, 0n, 0n]);
    rawSyscall("rt_sigaction", SIGPIPE, act, null, 8);
  }
});
