/**
 * A foreground run: the CLI itself is the container's parent, relays signals
 * to it, records its exit and removes it on --rm.
 */
import { startInit, waitExit } from "../runtime/create.ts";
import { trace } from "../runtime/trace.ts";
import type { ContainerConfig } from "./config.ts";
import { ContainerNetwork } from "./network.ts";
import { relaySignals } from "./signals.ts";
import { runtimeSpec } from "./spec.ts";
import { removeStored } from "./volumes.ts";
import type { ContainerStore } from "./store.ts";

/** Starts the container, waits for it, and returns its exit code. */
export async function runForeground(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<number> {
  let code: number;
  const net = new ContainerNetwork(store, c);
  try {
    const spec = await runtimeSpec(store, c);
    const pid = await startInit(
      spec,
      `${store.runDir(c.id)}/spec.json`,
      net.attach,
    );
    const state = store.state(c.id);
    store.setState(c.id, {
      ...state,
      status: "running",
      pid,
      startedAt: new Date().toISOString(),
    });
    const stopRelay = relaySignals(pid);
    try {
      code = await waitExit(pid);
      trace("exited");
    } finally {
      stopRelay();
      await net.detach();
    }
    store.setState(c.id, {
      ...store.state(c.id),
      status: "exited",
      pid: 0,
      exitCode: code,
      finishedAt: new Date().toISOString(),
    });
  } finally {
    if (c.host.autoRemove) await removeStored(store, c, true);
  }
  return code;
}
