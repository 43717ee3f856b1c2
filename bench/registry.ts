/**
 * A throw-away docker-registry (the distribution registry v2) on a free
 * 127.0.0.1 port, storing in a temp dir: both engines pull the same bytes
 * over loopback, so the pull figures measure the engines, not the network.
 */

/** A running registry. */
export interface Registry {
  /** host:port, as image references want it. */
  host: string;
  stop(): Promise<void>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts docker-registry with its storage under `dir`. */
export async function startRegistry(dir: string): Promise<Registry> {
  const host = `127.0.0.1:${freePort()}`;
  const config = `${dir}/config.yml`;
  await Deno.writeTextFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${dir}/data
http:
  addr: ${host}
`,
  );
  const child = new Deno.Command("docker-registry", {
    args: ["serve", config],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.ok) {
        return {
          host,
          async stop() {
            child.kill("SIGTERM");
            await child.status;
          },
        };
      }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error("docker-registry did not start on " + host);
}
