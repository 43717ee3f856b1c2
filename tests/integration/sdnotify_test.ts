/**
 * --sdnotify, with a socket of the test's own as systemd's NOTIFY_SOCKET:
 * conmon mode, the parent names itself MAINPID and says READY=1 once the
 * container runs; container mode, it names itself and relays what the
 * container sends to /run/notify/notify.sock, less a MAINPID of its own.
 */
import { assertEquals } from "../assert.ts";
import { closeFd } from "../../ffi/fd.ts";
import { receiveFrom, unixDatagram } from "../../ffi/socket.ts";
import { busyboxRoot, ok, ptd, type Sandbox, withSandbox } from "../helpers.ts";

/**
 * Runs `run -d --name NAME --sdnotify=MODE ARGS` under a NOTIFY_SOCKET of
 * the test's; `check` gets the next datagram and the monitor's pid.
 */
function notifyTest(
  name: string,
  mode: string,
  args: (sb: Sandbox) => string[],
  check: (next: () => Promise<string>, monitor: number) => Promise<void>,
) {
  Deno.test({
    name,
    // A receive may stay pending on its worker thread when a check fails.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withSandbox(async (sb) => {
        const path = `${sb.dir}/notify.sock`;
        const fd = unixDatagram(path);
        const buf = new Uint8Array(4096);
        const next = async () => {
          const got = await receiveFrom(fd, buf);
          return new TextDecoder().decode(buf.subarray(0, got!.n));
        };
        try {
          ok(
            await ptd(sb, [
              "run",
              "-d",
              "--name",
              "n",
              "--network",
              "none",
              `--sdnotify=${mode}`,
              ...args(sb),
            ], { env: { NOTIFY_SOCKET: path } }),
          );
          const info = JSON.parse(ok(await ptd(sb, ["inspect", "n"])))[0];
          await check(next, info.State.ConmonPid);
        } finally {
          closeFd(fd);
        }
      }),
  });
}

notifyTest(
  "sdnotify: conmon: MAINPID is the monitor, READY=1 once the container runs",
  "conmon",
  (sb) => ["--rootfs", busyboxRoot(sb.dir, ["sleep"]), "sleep", "100"],
  async (next, monitor) => {
    assertEquals(await next(), `MAINPID=${monitor}\nREADY=1`);
  },
);

const SEND =
  "import socket,os; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); " +
  "s.sendto(b'MAINPID=1\\nREADY=1\\nSTATUS=up', os.environ['NOTIFY_SOCKET'])";

notifyTest(
  "sdnotify: container: the container's messages are relayed, not its MAINPID",
  "container",
  () => ["--rootfs", "/", "sh", "-c", `python3 -c "${SEND}"; sleep 100`],
  async (next, monitor) => {
    assertEquals(await next(), `MAINPID=${monitor}`);
    assertEquals(await next(), "READY=1\nSTATUS=up");
  },
);
