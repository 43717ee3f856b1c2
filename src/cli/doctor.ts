/** `ptd doctor`: prints each host check, and the command that fixes each gap. */
import { Command } from "commander";
import { realHost, runChecks } from "../doctor/checks.ts";

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" };

/** The `doctor` command: exit 1 when something rootless needs is missing. */
export function doctorCommand(setCode: (code: number) => void): Command {
  return new Command("doctor")
    .description("Check that this host can run rootless containers")
    .option("--format <format>", "json for scripts")
    .action(async (f: { format?: string }) => {
      const checks = await runChecks(realHost());
      if (f.format === "json") {
        console.log(JSON.stringify(checks, null, 2));
      } else {
        for (const c of checks) {
          console.log(`[${MARK[c.status]}] ${c.name}: ${c.detail}`);
          if (c.status !== "ok" && c.fix) console.log(`       fix: ${c.fix}`);
        }
      }
      setCode(checks.some((c) => c.status === "fail") ? 1 : 0);
    });
}
