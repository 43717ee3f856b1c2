/**
 * `ptd monitor ID`: the conmon-like process that owns one container. It runs
 * in its own session, is the container's parent, pumps its stdout and stderr
 * into the log, records pid, times and exit code, applies the restart policy
 * and --rm. The CLI that spawned it reads one handshake line from its stdout
 * (see startContainer) and leaves; the monitor lives on.
 */
import { dupOnto, newSession } from "../../ffi/fd.ts";
import { storePaths } from "../storage/paths.ts";
import type { Handshake } from "./handshake.ts";
import { ContainerStore } from "./store.ts";
import { claim, supervise } from "./supervisor.ts";

function reply(h: Handshake) {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(h) + "\n"));
  } catch { /* the CLI is gone: nobody to tell */ }
  // Let go of the CLI's pipe (fd 0 is /dev/null), so the CLI sees EOF.
  dupOnto(0, 1);
}

/** The value of `--NAME=VALUE` among `args`. */
function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/**
 * Entry of `ptd monitor ID [--attached] [--size=ROWSxCOLS] [--restarts=N]
 * [--preserve-fds=N]`; --restarts: a foreground run hands over its
 * container for restart N; --preserve-fds: the inherited descriptors
 * 3..3+N-1 go on to the command.
 */
export async function monitorMain(args: string[]): Promise<number> {
  newSession();
  // Hold no directory of the caller's busy.
  Deno.chdir("/");
  const store = new ContainerStore(storePaths());
  const c = store.find(args[0]);
  const restarts = Number(option(args, "restarts") ?? 0);
  const size = /^(\d+)x(\d+)$/.exec(option(args, "size") ?? "");
  let answered = false;
  const answer = (h: Handshake) => {
    if (!answered) reply(h);
    answered = true;
  };
  try {
    await claim(store, c.id, false, restarts > 0);
    // A unit of `generate systemd` (Type=forking) finds its main process here.
    Deno.mkdirSync(store.runDir(c.id), { recursive: true });
    for (
      const file of [`${store.runDir(c.id)}/monitor.pid`, c.host.monitorPidFile]
    ) if (file) Deno.writeTextFileSync(file, `${Deno.pid}\n`);
    // Taking over: the CLI that handed the container over may go now.
    if (restarts > 0) answer({ ok: true });
    await supervise(store, c, {
      waitForClient: args.includes("--attached"),
      size: size ? [Number(size[1]), Number(size[2])] : undefined,
      answer,
      restarts,
      preserveFds: Number(option(args, "preserve-fds") ?? 0) || undefined,
    });
  } catch (e) {
    // stderr is /dev/null: leave the reason where inspect and a human look
    // (a CLI still waiting for an answer reads it from there).
    try {
      const msg = e instanceof Error ? e.stack ?? e.message : String(e);
      Deno.writeTextFileSync(`${store.dir(c.id)}/monitor.err`, `${msg}\n`, {
        append: true,
      });
      await store.updateState(c.id, (s) => ({
        ...s,
        error: `monitor: ${e instanceof Error ? e.message : String(e)}`,
      }));
    } catch { /* the container is gone already (--rm) */ }
    return 1;
  }
  return 0;
}
