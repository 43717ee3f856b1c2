/**
 * `deno task compile`: ptd as one binary, dist/ptd. deno compile follows
 * static imports only: each module loaded lazily is named to it, from the
 * same scan as the bundle's (sources.ts), so no command of the binary
 * misses one; the default seccomp profile goes in as a file it reads.
 * deno compile downloads its runtime base: it needs the internet.
 */
import { lazyModules, ROOT } from "./sources.ts";

const included = [...lazyModules(), "src/security/default_seccomp.json"];
const out = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    "-A",
    "--no-check",
    ...included.flatMap((f) => ["--include", `${ROOT}${f}`]),
    "--output",
    `${ROOT}dist/ptd`,
    `${ROOT}main.ts`,
  ],
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(out.code);
