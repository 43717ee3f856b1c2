/**
 * ptd's single entry point. The hidden subcommands that run in the hot path
 * (init inside the container, helpers in a user namespace) are dispatched
 * before the CLI's command tree is loaded, to keep their start-up small.
 */
import { trace } from "./src/runtime/trace.ts";

const [verb, ...rest] = Deno.args;
// PTD_TRACE=1: when this process's runtime came up, and when our code began.
const role = verb === "init" || verb === "monitor" ? verb : "cli";
trace(`${role}-deno`, performance.timeOrigin);
trace(`${role}-main`);

/**
 * Imports one of ptd's modules by a computed specifier. Deno loads the
 * graph behind every literal import(), dynamic ones included, before a
 * program starts: with literals here, init and the monitor would pay ~10 ms
 * to load the CLI's and the image code's modules they never run.
 * `deno task compile` embeds them with --include.
 */
const load = (path: string) => import(new URL(path, import.meta.url).href);

if (verb === "init") {
  const { initMain }: typeof import("./src/runtime/init.ts") = await load(
    "./src/runtime/init.ts",
  );
  initMain(rest);
} else if (verb === "monitor") {
  const { monitorMain }: typeof import("./src/container/monitor.ts") =
    await load("./src/container/monitor.ts");
  Deno.exit(await monitorMain(rest));
} else if (verb === "storage-rm") {
  const { removeMain }: typeof import("./src/storage/remove.ts") = await load(
    "./src/storage/remove.ts",
  );
  Deno.exit(removeMain(rest));
} else if (verb === "storage-unpack") {
  const { unpackMain }: typeof import("./src/image/unpack.ts") = await load(
    "./src/image/unpack.ts",
  );
  Deno.exit(await unpackMain(rest));
} else if (verb === "volume-copy") {
  const { copyMain }: typeof import("./src/volume/copyup.ts") = await load(
    "./src/volume/copyup.ts",
  );
  Deno.exit(copyMain(rest));
} else {
  const { main }: typeof import("./src/cli/main.ts") = await load(
    "./src/cli/main.ts",
  );
  Deno.exit(await main(Deno.args));
}
