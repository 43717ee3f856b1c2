/**
 * Podman as a peer for differential tests: its storage (vfs), run dir and
 * rootless pause process kept inside a test's sandbox, runc as the runtime
 * (this kind of host needs it).
 */
import assert from "node:assert/strict";
import { ptd, type Result, type Sandbox } from "./helpers.ts";

/** Whether the podman peer is installed. */
export function hasPodman(): boolean {
  try {
    return new Deno.Command("podman", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/**
 * Podman with its storage, run dir and pause process kept in the sandbox;
 * `stdin`, if given, is what it reads (else nothing: /dev/null).
 */
export async function podman(
  sb: Sandbox,
  args: string[],
  env: Record<string, string> = {},
  stdin?: string | Uint8Array,
): Promise<Deno.CommandOutput> {
  const line = podmanLine(sb, args);
  const child = new Deno.Command(line.argv[0], {
    args: line.argv.slice(1),
    env: { ...line.env, ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin,
    );
    await w.close();
  }
  return await child.output();
}

/**
 * The command line and environment of `podman ARGS` in the sandbox, for
 * a test that starts it its own way (through a shell, say).
 */
export function podmanLine(
  sb: Sandbox,
  args: string[],
): { argv: string[]; env: Record<string, string> } {
  const run = `${sb.dir}/podman-run`;
  Deno.mkdirSync(run, { recursive: true, mode: 0o700 });
  return {
    argv: [
      "podman",
      "--root",
      `${sb.dir}/podman-root`,
      "--runroot",
      `${run}/storage`,
      "--storage-driver",
      "vfs",
      "--runtime",
      "runc",
      ...args,
    ],
    env: { XDG_RUNTIME_DIR: run },
  };
}

/** Ends the sandbox's podman pause process (it would outlive the test). */
export function stopPodmanPause(sb: Sandbox) {
  try {
    const pid = Number(
      Deno.readTextFileSync(`${sb.dir}/podman-run/libpod/tmp/pause.pid`),
    );
    if (pid > 0) Deno.kill(pid, "SIGKILL");
  } catch { /* no pause process */ }
}

/** Runs podman, which must succeed; returns its stdout. */
export async function podmanOk(sb: Sandbox, args: string[]): Promise<string> {
  const out = await podman(sb, args);
  const text = new TextDecoder();
  assert.equal(
    out.code,
    0,
    `podman ${args.join(" ")}: ${text.decode(out.stderr)}`,
  );
  return text.decode(out.stdout);
}

/** One engine's command line runner: arguments and stdin to its result. */
export type Runner = (args: string[], stdin?: string) => Promise<Result>;

/**
 * The two engines of a differential test, by name, on the same sandbox
 * and environment: podman (see `podman`) and ptd from source.
 */
export function bothEngines(
  sb: Sandbox,
  env: Record<string, string> = {},
): Record<"podman" | "ptd", Runner> {
  const dec = new TextDecoder();
  return {
    podman: async (args, stdin) => {
      const out = await podman(sb, args, env, stdin);
      return {
        code: out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
      };
    },
    ptd: (args, stdin) => ptd(sb, args, { env, stdin }),
  };
}

/**
 * Runs `fn` for a differential test with `engines` on `sb`; what podman
 * leaves (containers, its pause process) is gone afterwards, pass or fail.
 */
export async function sideBySide<T>(
  sb: Sandbox,
  engines: Record<"podman" | "ptd", Runner>,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } finally {
    await engines.podman(["rm", "-f", "-a"]);
    stopPodmanPause(sb);
  }
}
