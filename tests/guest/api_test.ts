/**
 * The API's stats where the figures exist: `ptd system service` in the
 * qemu guest's delegated cgroup v2 subtree answers Docker's stats request
 * with the container's cgroup figures and the host's CPU time, not the
 * zeros of a host without delegation. Raw HTTP: the guest has no docker.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  busyboxRoot,
  ok,
  ptd,
  ptdCommand,
  waitForPath,
  withSandbox,
} from "../helpers.ts";
import { guestTest } from "./guest.ts";

/** A GET over the unix socket; the JSON body of the reply. */
async function getJson(socket: string, path: string): Promise<unknown> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ptd\r\nConnection: close\r\n\r\n`,
  ));
  const text = await new Response(conn.readable).text();
  const [head, body] = text.split("\r\n\r\n", 2);
  assert(head.startsWith("HTTP/1.1 200"), head);
  return JSON.parse(body);
}

guestTest(
  "guest: the API's stats are the container's cgroup figures",
  () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, ["sleep"]);
      ok(
        await ptd(sb, [
          "run",
          "-d",
          "--name",
          "st",
          "--network",
          "none",
          "--memory",
          "64m",
          // The guest has no containers-common (seccomp.json).
          "--security-opt",
          "seccomp=unconfined",
          "--rootfs",
          root,
          "sleep",
          "600",
        ]),
      );
      const socket = `${sb.dir}/api/ptd.sock`;
      const service = ptdCommand(sb, [
        "system",
        "service",
        "--time",
        "0",
        `unix://${socket}`,
      ]).spawn();
      try {
        await waitForPath(socket, 120_000);
        const doc = await getJson(
          socket,
          "/v1.41/containers/st/stats?stream=false",
        ) as Record<string, Record<string, number>>;
        assertEquals(doc.memory_stats.limit, 64 * 1024 * 1024);
        assert(doc.memory_stats.usage > 0, "no memory usage");
        assertEquals(doc.pids_stats.current, 1);
        // Two readings a second apart, the host's CPU time in both.
        const cpu = doc.cpu_stats, pre = doc.precpu_stats;
        assert(
          cpu.system_cpu_usage > pre.system_cpu_usage &&
            pre.system_cpu_usage > 0,
          JSON.stringify([cpu, pre]),
        );
        assert(
          `${doc.preread}` !== "0001-01-01T00:00:00Z",
          "no previous reading",
        );
      } finally {
        service.kill("SIGTERM");
        await service.status;
        ok(await ptd(sb, ["rm", "-f", "-t", "0", "st"]));
      }
    }),
);
