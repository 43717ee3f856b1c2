/**
 * ptd's single entry point. The hidden subcommands that run in the hot path
 * (init inside the container, helpers in a user namespace) are dispatched
 * before the CLI's command tree is loaded, to keep their start-up small.
 */
import { lazy } from "./src/runtime/lazy.ts";
import { trace } from "./src/runtime/trace.ts";

const [verb, ...rest] = Deno.args;
// PTD_TRACE=1: when this process's runtime came up, and when our code began.
const role = verb === "init" || verb === "monitor" ? verb : "cli";
trace(`${role}-deno`, performance.timeOrigin);
trace(`${role}-main`);

// Each role loads only its own modules (see lazy.ts for why not import()).
const load = <T>(path: string) => lazy<T>(new URL(path, import.meta.url));

if (verb === "init") {
  const { initMain } = await load<typeof import("./src/runtime/init.ts")>(
    "./src/runtime/init.ts",
  );
  initMain(rest);
} else if (verb === "monitor") {
  const { monitorMain } = await load<
    typeof import("./src/container/monitor.ts")
  >("./src/container/monitor.ts");
  Deno.exit(await monitorMain(rest));
} else if (verb === "health-check") {
  const { healthMain } = await load<typeof import("./src/container/health.ts")>(
    "./src/container/health.ts",
  );
  Deno.exit(await healthMain(rest));
} else if (verb === "storage-rm") {
  const { removeMain } = await load<typeof import("./src/storage/remove.ts")>(
    "./src/storage/remove.ts",
  );
  Deno.exit(removeMain(rest));
} else if (verb === "storage-reown") {
  const { reownMain } = await load<typeof import("./src/storage/reown.ts")>(
    "./src/storage/reown.ts",
  );
  Deno.exit(reownMain(rest));
} else if (verb === "storage-unpack") {
  const { unpackMain } = await load<typeof import("./src/image/unpack.ts")>(
    "./src/image/unpack.ts",
  );
  Deno.exit(await unpackMain(rest));
} else if (verb === "storage-cp") {
  const { cpMain } = await load<typeof import("./src/container/cp.ts")>(
    "./src/container/cp.ts",
  );
  Deno.exit(await cpMain(rest));
} else if (verb === "storage-layer") {
  const { layerMain } = await load<typeof import("./src/build/layer_pack.ts")>(
    "./src/build/layer_pack.ts",
  );
  Deno.exit(await layerMain(rest));
} else if (verb === "udp-proxy") {
  const { udpProxyMain } = await load<
    typeof import("./src/network/udp_proxy.ts")
  >(
    "./src/network/udp_proxy.ts",
  );
  Deno.exit(await udpProxyMain(rest));
} else if (verb === "network-daemon") {
  const { daemonMain } = await load<typeof import("./src/network/daemon.ts")>(
    "./src/network/daemon.ts",
  );
  Deno.exit(await daemonMain(rest));
} else if (verb === "network-holder") {
  const { holderMain } = await load<typeof import("./src/network/holder.ts")>(
    "./src/network/holder.ts",
  );
  Deno.exit(await holderMain(rest));
} else if (verb === "volume-copy") {
  const { copyMain } = await load<typeof import("./src/volume/copyup.ts")>(
    "./src/volume/copyup.ts",
  );
  Deno.exit(copyMain(rest));
} else if (verb === "quadlet-generator") {
  const { quadletMain } = await load<
    typeof import("./src/systemd/quadlet.ts")
  >("./src/systemd/quadlet.ts");
  Deno.exit(quadletMain(rest));
} else {
  const { main } = await load<typeof import("./src/cli/main.ts")>(
    "./src/cli/main.ts",
  );
  Deno.exit(await main(Deno.args));
}
