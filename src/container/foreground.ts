/**
 * A foreground run (`ptd run` without -d or -t): the CLI itself hosts the
 * container's supervision loop (supervisor.ts), the same one a monitor
 * runs, so the container is logged, stopped, killed, exec'd into, attached
 * to and removed from another shell exactly as a detached one. What the
 * foreground adds: the container's output is relayed to the CLI's own,
 * signals sent to the CLI go to the container, and a restart is handed to a
 * detached monitor after the first exit, as Podman returns then restarts.
 */
import { signalProcess } from "../runtime/create.ts";
import { PtdError } from "../runtime/errors.ts";
import { trace } from "../runtime/trace.ts";
import type { ContainerConfig } from "./config.ts";
import type { Handshake } from "./handshake.ts";
import { spawnMonitor } from "./lifecycle.ts";
import type { Stream } from "./log.ts";
import { relaySignals } from "./signals.ts";
import type { ContainerStore } from "./store.ts";
import { claim, supervise } from "./supervisor.ts";

const SIGKILL = 9;

/**
 * Relays container output to our stdout/stderr. When a reader closes one
 * (`ptd run ... | head`), Podman's attached run gives up with exit 126;
 * the container cannot outlive us, its parent, so it is killed, and
 * `broken` names the stream.
 */
function outputRelay(
  store: ContainerStore,
  c: ContainerConfig,
  streams?: Stream[],
) {
  const state: { broken?: string } = {};
  const relay = async (stream: Stream, chunk: Uint8Array) => {
    if (state.broken || (streams && !streams.includes(stream))) return;
    const out = stream === "stdout" ? Deno.stdout : Deno.stderr;
    try {
      for (let off = 0; off < chunk.length;) {
        off += await out.write(chunk.subarray(off));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      state.broken = stream;
      const s = await store.updateState(c.id, (s) => ({
        ...s,
        stoppedByUser: true,
      }));
      if (s.pid) signalProcess(s.pid, SIGKILL);
    }
  };
  return { state, relay };
}

/** How a foreground run treats the host's descriptors. */
export interface ForegroundOptions {
  /** -a: only these of the container's output streams are relayed. */
  streams?: Stream[];
  /** --preserve-fds: descriptors 3..3+N-1 of this process go to the command. */
  preserveFds?: number;
  /** Takes the output instead of this process's stdout and stderr. */
  output?: (stream: Stream, chunk: Uint8Array) => Promise<void>;
}

/**
 * Starts the created container `c` with this process as its parent, waits
 * for its first run to end and returns its exit code.
 */
export async function runForeground(
  store: ContainerStore,
  c: ContainerConfig,
  opts: ForegroundOptions = {},
): Promise<number> {
  await claim(store, c.id, true);
  let stopSignals = () => {};
  let failure: Handshake | undefined;
  const out = outputRelay(store, c, opts.streams);
  let code: number;
  try {
    code = await supervise(store, c, {
      foreground: true,
      relay: opts.output ?? out.relay,
      preserveFds: opts.preserveFds,
      answer: (h) => {
        if (h.ok) stopSignals = relaySignals(h.pid!);
        else failure = h;
      },
      handOff: (restarts) => spawnMonitor(store, c, { restarts }),
    });
  } finally {
    stopSignals();
  }
  trace("exited");
  if (failure) throw PtdError.fromData(failure.error);
  if (out.state.broken) {
    throw new PtdError(
      "cannot-invoke",
      `attaching to container ${c.id}: write /dev/${out.state.broken}: broken pipe`,
    );
  }
  return code;
}
