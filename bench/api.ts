/**
 * The REST API: `docker run --rm IMAGE true` from the same Docker client
 * through ptd's `system service` and through Podman's, each started once
 * (`--time 0`) before the runs, so the figure is the service's work per
 * container, not its start-up.
 */
import { waitForPath } from "../tests/helpers.ts";
import type { Metric } from "./metric.ts";
import type { Sandbox } from "./sandbox.ts";
import { type Image, type Plan, timed } from "./suite.ts";

/** 7: `docker run --rm IMAGE true` against each engine's API service. */
export async function apiRunRm(
  sb: Sandbox,
  image: Image,
  p: Plan,
): Promise<Metric> {
  const title = "docker run --rm IMAGE true (API service)";
  if (image[0] === "--rootfs") {
    return { title, unit: "ms", note: "not measured: needs an image" };
  }
  const dir = `${sb.dir}/api`;
  await Deno.mkdir(`${dir}/docker`, { recursive: true });
  const socket = { ptd: `${dir}/ptd.sock`, podman: `${dir}/podman.sock` };
  const services = (["ptd", "podman"] as const).map((name) =>
    new Deno.Command(sb[name][0], {
      args: [
        ...sb[name].slice(1),
        "system",
        "service",
        "--time",
        "0",
        `unix://${socket[name]}`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  try {
    await Promise.all(Object.values(socket).map((p) => waitForPath(p)));
    const run = (name: "ptd" | "podman") =>
      [
        "env",
        `DOCKER_CONFIG=${dir}/docker`,
        "docker",
        "-H",
        `unix://${socket[name]}`,
        "run",
        "--rm",
        "--network",
        "none",
        ...image,
        "true",
      ].join(" ");
    return await timed(
      title,
      { ptd: run("ptd"), podman: run("podman") },
      { runs: p.runs, warmup: p.warmup },
      {
        target: { kind: "ratio", max: 0.5 },
        note: "The Docker CLI (28.x, negotiating API 1.41) against `ptd " +
          "system service` and `podman system service`, each started " +
          "once with `--time 0` before the runs.",
      },
    );
  } finally {
    for (const s of services) {
      s.kill("SIGTERM");
      await s.status;
    }
  }
}
