/**
 * ptd's single entry point. The hidden subcommands that run in the hot path
 * (init inside the container, helpers in a user namespace) are dispatched
 * before the CLI's command tree is loaded, to keep their start-up small.
 */
import { lazy, useOrigin } from "./src/runtime/lazy.ts";
import { trace } from "./src/runtime/trace.ts";
import { chooseBundle } from "./src/runtime/bundle.ts";

const [verb, ...rest] = Deno.args;
// PTD_TRACE=1: when this process's runtime came up, and when our code began.
const role = verb === "init" || verb === "monitor" ? verb : "cli";
trace(`${role}-deno`, performance.timeOrigin);
trace(`${role}-main`);

// Each role loads only its own modules (see lazy.ts for why not import()),
// from the bundle when it was made from the sources as they are.
if (!Deno.build.standalone) {
  const root = new URL("./", import.meta.url);
  const bundle = chooseBundle(root);
  useOrigin(root, bundle);
  if (bundle) trace(`${role}-bundle`);
}

if (verb === "init") {
  const { initMain } = await lazy<typeof import("./src/runtime/init.ts")>(
    "src/runtime/init.ts",
  );
  initMain(rest);
} else if (verb === "monitor") {
  const { monitorMain } = await lazy<
    typeof import("./src/container/monitor.ts")
  >("src/container/monitor.ts");
  Deno.exit(await monitorMain(rest));
} else if (verb === "health-check") {
  const { healthMain } = await lazy<typeof import("./src/container/health.ts")>(
    "src/container/health.ts",
  );
  Deno.exit(await healthMain(rest));
} else if (verb === "storage-rm") {
  const { removeMain } = await lazy<typeof import("./src/storage/remove.ts")>(
    "src/storage/remove.ts",
  );
  Deno.exit(removeMain(rest));
} else if (verb === "storage-reown") {
  const { reownMain } = await lazy<typeof import("./src/storage/reown.ts")>(
    "src/storage/reown.ts",
  );
  Deno.exit(reownMain(rest));
} else if (verb === "storage-unpack") {
  const { unpackMain } = await lazy<typeof import("./src/image/unpack.ts")>(
    "src/image/unpack.ts",
  );
  Deno.exit(await unpackMain(rest));
} else if (verb === "storage-cp") {
  const { cpMain } = await lazy<typeof import("./src/container/cp.ts")>(
    "src/container/cp.ts",
  );
  Deno.exit(await cpMain(rest));
} else if (verb === "storage-layer") {
  const { layerMain } = await lazy<typeof import("./src/build/layer_pack.ts")>(
    "src/build/layer_pack.ts",
  );
  Deno.exit(await layerMain(rest));
} else if (verb === "udp-proxy") {
  const { udpProxyMain } = await lazy<
    typeof import("./src/network/udp_proxy.ts")
  >("src/network/udp_proxy.ts");
  Deno.exit(await udpProxyMain(rest));
} else if (verb === "network-daemon") {
  const { daemonMain } = await lazy<typeof import("./src/network/daemon.ts")>(
    "src/network/daemon.ts",
  );
  Deno.exit(await daemonMain(rest));
} else if (verb === "network-holder") {
  const { holderMain } = await lazy<typeof import("./src/network/holder.ts")>(
    "src/network/holder.ts",
  );
  Deno.exit(await holderMain(rest));
} else if (verb === "volume-copy") {
  const { copyMain } = await lazy<typeof import("./src/volume/copyup.ts")>(
    "src/volume/copyup.ts",
  );
  Deno.exit(copyMain(rest));
} else if (verb === "exec-hold") {
  const { holdMain } = await lazy<
    typeof import("./src/container/exec_hold.ts")
  >(
    "src/container/exec_hold.ts",
  );
  Deno.exit(await holdMain(rest));
} else if (verb === "quadlet-generator") {
  const { quadletMain } = await lazy<
    typeof import("./src/systemd/quadlet.ts")
  >("src/systemd/quadlet.ts");
  Deno.exit(quadletMain(rest));
} else {
  const { main } = await lazy<typeof import("./src/cli/main.ts")>(
    "src/cli/main.ts",
  );
  Deno.exit(await main(Deno.args));
}
