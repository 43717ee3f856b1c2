/**
 * --sdnotify, with a socket of the test's own as systemd's NOTIFY_SOCKET:
 * conmon mode, the parent names itself MAINPID and says READY=1 once the
 * container runs; container mode, it names itself and relays what the
 * container sends to /run/notify/notify.sock, less a MAINPID of its own.
 */
import { assertEquals } from "../assert.ts";
import { closeFd } from "../../ffi/fd.ts";
import { receiveFrom, unixDatagram } from "../../ffi/socket.ts";
import { busyboxRoot, ok, ptd, withSandbox } from "../helpers.ts";

function listen(path: string) {
  const fd = unixDatagram(path);
  const buf = new Uint8Array(4096);
  return {
    async next(): Promise<string> {
      const got = await receiveFrom(fd, buf);
      return new TextDecoder().decode(buf.subarray(0, got!.n));
    },
    close: () => closeFd(fd),
  };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "sdnotify: conmon: MAINPID is the monitor, READY=1 once the container runs",
  ...opts,
  fn: () =>
    withSandbox(async (sb) => {
      const sock = listen(`${sb.dir}/notify.sock`);
      try {
        const env = { NOTIFY_SOCKET: `${sb.dir}/notify.sock` };
        ok(
          await ptd(sb, [
            "run",
            "-d",
            "--name",
            "n",
            "--network",
            "none",
            "--sdnotify=conmon",
            "--rootfs",
            busyboxRoot(sb.dir, ["sleep"]),
            "sleep",
            "100",
          ], { env }),
        );
        const msg = await sock.next();
        const info = JSON.parse(ok(await ptd(sb, ["inspect", "n"])))[0];
        assertEquals(msg, `MAINPID=${info.State.ConmonPid}\nREADY=1`);
      } finally {
        sock.close();
      }
    }),
});

Deno.test({
  name:
    "sdnotify: container: the container's messages are relayed, not its MAINPID",
  ...opts,
  fn: () =>
    withSandbox(async (sb) => {
      const sock = listen(`${sb.dir}/notify.sock`);
      try {
        const env = { NOTIFY_SOCKET: `${sb.dir}/notify.sock` };
        const send =
          "import socket,os; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); " +
          "s.sendto(b'MAINPID=1\\nREADY=1\\nSTATUS=up', os.environ['NOTIFY_SOCKET'])";
        ok(
          await ptd(sb, [
            "run",
            "-d",
            "--name",
            "c",
            "--network",
            "none",
            "--sdnotify=container",
            "--rootfs",
            "/",
            "sh",
            "-c",
            `python3 -c "${send}"; sleep 100`,
          ], { env }),
        );
        const first = await sock.next();
        const info = JSON.parse(ok(await ptd(sb, ["inspect", "c"])))[0];
        assertEquals(first, `MAINPID=${info.State.ConmonPid}`);
        assertEquals(await sock.next(), "READY=1\nSTATUS=up");
      } finally {
        sock.close();
      }
    }),
});
