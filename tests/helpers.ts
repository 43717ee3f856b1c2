/**
 * Shared test plumbing: an isolated ptd store per test (PTD_ROOT and
 * PTD_RUNROOT in a temp dir) and a way to run the CLI from source, exactly
 * as a user would, capturing exit code, stdout and stderr.
 */
import { removeTrees } from "../src/storage/remove.ts";

/** The repository root. */
export const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** An isolated store and the environment that points ptd at it. */
export interface Sandbox {
  dir: string;
  env: Record<string, string>;
  /** Removes the store, including files owned by subordinate ids. */
  cleanup(): Promise<void>;
}

/** Creates a fresh store under a temp dir. */
export async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "ptd-test-" });
  const env = {
    PTD_ROOT: `${dir}/data`,
    PTD_RUNROOT: `${dir}/run`,
    // The host's containers.conf (Podman's package ships one that narrows
    // the capability set) stays out of tests that do not ask for it.
    CONTAINERS_CONF: "/dev/null",
    NO_COLOR: "1",
  };
  return {
    dir,
    env,
    async cleanup() {
      for (const sub of ["data/containers", "run"]) {
        try {
          for (const e of Deno.readDirSync(`${dir}/${sub}`)) {
            Deno.chmodSync(`${dir}/${sub}/${e.name}`, 0o700);
          }
        } catch { /* not there */ }
      }
      await removeTrees([dir]);
    },
  };
}

/** What a finished ptd command left. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The argv that runs `ptd ARGS` from source (the tree at `tree`). */
export function ptdArgv(args: string[], tree = REPO): string[] {
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    `--config=${tree}/deno.json`,
    `${tree}/main.ts`,
    ...args,
  ];
}

/** Waits until `path` exists (a socket a service makes); throws after `ms`. */
export async function waitForPath(path: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    try {
      Deno.statSync(path);
      return;
    } catch {
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }
  throw new Error(`${path} did not appear`);
}

/** `ptd ARGS` from source in the sandbox, all three stdio streams piped. */
export function ptdCommand(
  sb: Sandbox,
  args: string[],
  opts: { stdin?: boolean; env?: Record<string, string> } = {},
): Deno.Command {
  const [cmd, ...rest] = ptdArgv(args);
  return new Deno.Command(cmd, {
    args: rest,
    env: { ...sb.env, ...opts.env },
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `ptd ARGS` from source in the sandbox; `stdin` is fed if given. */
export async function ptd(
  sb: Sandbox,
  args: string[],
  opts: { stdin?: string | Uint8Array; env?: Record<string, string> } = {},
): Promise<Result> {
  const child = ptdCommand(sb, args, {
    stdin: opts.stdin !== undefined,
    env: opts.env,
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string"
        ? new TextEncoder().encode(opts.stdin)
        : opts.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * Runs `fn` in a fresh sandbox. Whatever containers and pods it leaves (a
 * failed test's too) are force-removed before the store goes: `rm -fa`
 * takes containers before those they depend on and a pod's infra
 * container with its pod (`rm -f` of the ids refuses the infra container).
 */
export async function withSandbox(
  fn: (sb: Sandbox) => Promise<void>,
): Promise<void> {
  const sb = await sandbox();
  try {
    await fn(sb);
  } finally {
    await ptd(sb, ["rm", "-fa"]);
    await sb.cleanup();
  }
}

/** True when the tests run as an unprivileged user (the normal case). */
export const ROOTLESS = Deno.uid() !== 0;

/**
 * A tiny root file system of our own (no submounts: native overlay), owned
 * by the calling user: /bin/busybox with `extra` applets beside the basic
 * ones.
 */
export function busyboxRoot(dir: string, extra: string[] = []): string {
  const root = `${dir}/bbroot`;
  for (const d of ["bin", "etc", "tmp"]) {
    Deno.mkdirSync(`${root}/${d}`, { recursive: true });
  }
  Deno.copyFileSync("/bin/busybox", `${root}/bin/busybox`);
  for (
    const app of [
      "sh",
      "id",
      "cat",
      "ls",
      "echo",
      "chown",
      "stat",
      "touch",
      "hostname",
      ...extra,
    ]
  ) {
    Deno.symlinkSync("busybox", `${root}/bin/${app}`);
  }
  Deno.writeTextFileSync(
    `${root}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\n",
  );
  Deno.writeTextFileSync(`${root}/etc/group`, "root:x:0:\n");
  return root;
}

/** The applets of webRoot: a web server and clients to reach it. */
const WEB_APPLETS = [
  "httpd",
  "nc",
  "wget",
  "ip",
  "head",
  "grep",
  "cut",
  "true",
  "sleep",
];

/**
 * busyboxRoot with a web server's applets (and `extra`) and
 * /www/index.html holding `body`.
 */
export function webRoot(
  dir: string,
  body: string,
  extra: string[] = [],
): string {
  const root = busyboxRoot(dir, [...WEB_APPLETS, ...extra]);
  Deno.mkdirSync(`${root}/www`);
  Deno.writeTextFileSync(`${root}/www/index.html`, body);
  return root;
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** The trimmed stdout of a command that must have succeeded. */
export function ok(r: Result): string {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Polls `fn` until it returns true; throws after `ms`. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  throw new Error("condition not met in time");
}

/** Whether `pid` is a live process (not gone, not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line holds `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (cmd.includes(marker) && alive(Number(e.name))) {
        out.push(Number(e.name));
      }
    } catch { /* gone, or not ours */ }
  }
  return out;
}
