/**
 * How the tests of `ptd system service` start a service on a sandbox and
 * run the real clients (`docker`, `docker-compose`, `curl`) against it.
 */
import { assert, assertEquals } from "./assert.ts";
import {
  ptd,
  ptdCommand,
  type Sandbox,
  waitForPath,
  withSandbox,
} from "./helpers.ts";
import { storeBusyboxImage } from "./busybox_image.ts";

const dec = new TextDecoder();

/** A running service and how to reach it. */
export interface Api {
  sb: Sandbox;
  socket: string;
  child: Deno.ChildProcess;
  /** The client environment: DOCKER_HOST and a config dir of its own. */
  env: Record<string, string>;
}

export function has(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

export const NO_DOCKER = !has("docker");

/** Starts `ptd system service` on a socket in the sandbox. */
export async function startService(
  sb: Sandbox,
  extra: string[] = [],
): Promise<Api> {
  const socket = `${sb.dir}/api/ptd.sock`;
  const child = ptdCommand(sb, [
    "system",
    "service",
    ...extra,
    `unix://${socket}`,
  ]).spawn();
  await waitForPath(socket);
  Deno.mkdirSync(`${sb.dir}/docker`, { recursive: true });
  return {
    sb,
    socket,
    child,
    env: {
      ...sb.env,
      DOCKER_HOST: `unix://${socket}`,
      DOCKER_CONFIG: `${sb.dir}/docker`,
    },
  };
}

/** Stops the service; returns what it wrote on stderr. */
export async function stopService(api: Api): Promise<string> {
  try {
    api.child.kill("SIGTERM");
  } catch { /* gone already */ }
  return dec.decode((await api.child.output()).stderr);
}

/** A sandbox with the busybox image and a service (`--time 0`). */
export function withApi(
  fn: (api: Api) => Promise<void>,
  sb?: () => Promise<Sandbox>,
) {
  const body = async (s: Sandbox) => {
    await storeBusyboxImage(s, "busybox");
    const api = await startService(s, ["--time", "0"]);
    try {
      await fn(api);
    } finally {
      const err = await stopService(api);
      assert(!/error:|panic/i.test(err), `service stderr: ${err}`);
    }
  };
  if (!sb) return withSandbox(body);
  return (async () => {
    const s = await sb();
    try {
      await body(s);
    } finally {
      const ids = (await ptd(s, ["ps", "-aq"])).stdout.split("\n").filter(
        Boolean,
      );
      if (ids.length > 0) await ptd(s, ["rm", "-f", ...ids]);
      await s.cleanup();
    }
  })();
}

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client (`docker`, `docker-compose`, `curl`) against the service. */
export async function client(
  api: Api,
  cmd: string,
  args: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<Out> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: { ...api.env, ...opts.env },
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

export const docker = (api: Api, args: string[], stdin?: string) =>
  client(api, "docker", args, { stdin });

/** `docker ARGS`, which must succeed; its stdout. */
export async function dockerOk(api: Api, args: string[]): Promise<string> {
  const r = await docker(api, args);
  assertEquals(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A raw HTTP request over the socket: status and body. */
export async function http(
  api: Api,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; headers: string }> {
  const args = [
    "-s",
    "-i",
    "--unix-socket",
    api.socket,
    ...(method === "HEAD" ? ["-I"] : ["-X", method]),
    ...(body === undefined
      ? []
      : ["-H", "Content-Type: application/json", "--data-binary", body]),
    `http://ptd${path}`,
  ];
  const r = await client(api, "curl", args);
  const [head, ...rest] = r.stdout.split("\r\n\r\n");
  return {
    status: Number(head.split(" ")[1]),
    headers: head,
    body: rest.join("\r\n\r\n"),
  };
}

/**
 * A compose project `proj` in the sandbox, of the file `yaml`: runs
 * `docker-compose ARGS` in it.
 */
export function composeProject(
  api: Api,
  yaml: string,
): (args: string[]) => Promise<Out> {
  const dir = `${api.sb.dir}/proj`;
  Deno.mkdirSync(dir);
  Deno.writeTextFileSync(`${dir}/docker-compose.yml`, yaml);
  return (args) => client(api, "docker-compose", args, { cwd: dir });
}
