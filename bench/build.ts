/**
 * Builds, ptd beside `podman build`, on the same context and Containerfile:
 * a 10-step build on the Debian minbase image from scratch (no cache), a
 * rebuild with nothing changed, and a rebuild after a change to the file
 * only the last COPY takes (every step before it from the cache).
 */
import type { Metric } from "./metric.ts";
import type { Sandbox } from "./sandbox.ts";
import { type Plan, timed } from "./suite.ts";

/** The Containerfile: ten steps, the dependency list before the source. */
function containerfile(base: string): string {
  return `FROM ${base}
ENV APP_HOME=/app LANG=C.UTF-8
WORKDIR /app
COPY deps.txt ./
RUN sort deps.txt > /app/installed && mkdir -p /app/data
LABEL org.example.bench=build
USER root
EXPOSE 8080
COPY src/ ./src/
CMD ["cat", "/app/src/main.txt"]
`;
}

/** Writes the context into `dir`. */
function context(dir: string, base: string): void {
  Deno.mkdirSync(`${dir}/src`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/Containerfile`, containerfile(base));
  Deno.writeTextFileSync(`${dir}/deps.txt`, "zlib\nlibc\nopenssl\n");
  Deno.writeTextFileSync(`${dir}/src/main.txt`, "v0\n");
  for (let i = 0; i < 20; i++) {
    Deno.writeTextFileSync(
      `${dir}/src/file${i}.txt`,
      `content ${i}\n`.repeat(100),
    );
  }
}

/** The three build metrics on the minbase image `base`. */
export async function builds(
  sb: Sandbox,
  base: string,
  p: Plan,
): Promise<Metric[]> {
  const ctx = `${sb.dir}/build-ctx`;
  context(ctx, base);
  const build = (engine: string[], extra: string[] = []) =>
    [...engine, "build", "-q", ...extra, "-t", "bench-build", ctx].join(" ");
  const cmds = (extra: string[] = []) => ({
    ptd: build(sb.ptd, extra),
    podman: build(sb.podman, extra),
  });
  const runs = Math.max(3, Math.min(p.runs, 10));
  const metric = (
    title: string,
    commands: Record<string, string>,
    extra: Partial<Metric>,
    prepare?: string[],
  ) => timed(title, commands, { runs, warmup: 1, prepare }, extra);
  // Each run's last COPY sees new content: a fresh file, a new cache key.
  const touch = `sh -c "date +%s%N > ${ctx}/src/main.txt"`;
  return [
    await metric(
      "build, 10 steps on minbase (--no-cache)",
      cmds(["--no-cache"]),
      {
        note: "Three RUN/COPY layers over the Debian minbase image; " +
          "every step is built again in each run.",
      },
    ),
    await metric("rebuild, nothing changed", cmds(), {
      target: { kind: "ratio", max: 0.5 },
      note: "Every step from the build cache: no container, no layer.",
    }),
    await metric(
      "rebuild after a change to the last COPY's file",
      cmds(),
      {
        target: { kind: "ratio", max: 0.5 },
        note: "Steps 1-8 from the cache; the last COPY and CMD are built.",
      },
      [touch, touch],
    ),
  ];
}
