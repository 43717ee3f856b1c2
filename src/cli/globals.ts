/**
 * Podman's global options, given before the command (`ptd --root X ps`).
 * Declared once as data: main.ts strips them with quickParse before it looks
 * for a hot command, and program.ts gives them to commander's root command.
 * Those that name Podman's service (--url, --connection, --remote) get the
 * error a script would see from Podman with no service to reach: ptd is
 * local only.
 */
import { BACKEND_ENV } from "../events/record.ts";
import { CGROUP_MANAGER_ENV } from "../cgroup/host.ts";
import { invalid, PtdError } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { which } from "../runtime/tools.ts";
import { storePaths, useStoreRoots } from "../storage/paths.ts";
import { type CommandSpec, type OptionSpec, quickParse } from "./spec.ts";

/** The global options, as commander is told them. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    flags: "--cgroup-manager <manager>",
    description: 'Cgroup manager to use ("cgroupfs"|"systemd")',
  },
  {
    flags: "-c, --connection <name>",
    description: "Connection to use for remote Podman service",
  },
  {
    flags: "--conmon <path>",
    description: "Path of the conmon binary (accepted: ptd is its own monitor)",
  },
  {
    flags: "--events-backend <backend>",
    description: 'Events backend to use ("file"|"journald"|"none")',
  },
  {
    flags: "--hooks-dir <path>",
    description:
      "Set the OCI hooks directory path (accepted: ptd runs no OCI hooks)",
  },
  {
    flags: "--log-level <level>",
    description:
      "Log messages above specified level (trace, debug, info, warn, warning, error, fatal, panic)",
  },
  { flags: "--noout", description: "do not output to stdout" },
  { flags: "-r, --remote", description: "Access remote Podman service" },
  {
    flags: "--root <path>",
    description:
      "Path to the root directory in which data, including images, is stored",
  },
  {
    flags: "--runroot <path>",
    description:
      "Path to the 'run directory' where all state information is stored",
  },
  {
    flags: "--runtime <path>",
    description:
      "Path to the OCI-compatible binary used to run containers (checked as Podman does; ptd runs containers itself)",
  },
  {
    flags: "--runtime-flag <flag>",
    description:
      "add global flags for the container runtime (accepted: ptd is its own runtime)",
  },
  {
    flags: "--storage-driver <driver>",
    description:
      "Select which storage driver is used to manage storage of images and containers",
  },
  {
    flags: "--tmpdir <path>",
    description: "Path to the tmp directory for libpod state content",
  },
  { flags: "--url <url>", description: "URL to access Podman service" },
];

/** The global options as an options object (commander's keys). */
export interface GlobalFlags {
  cgroupManager?: string;
  connection?: string;
  conmon?: string;
  eventsBackend?: string;
  hooksDir?: string;
  logLevel?: string;
  noout?: boolean;
  remote?: boolean;
  root?: string;
  runroot?: string;
  runtime?: string;
  runtimeFlag?: string;
  storageDriver?: string;
  tmpdir?: string;
  url?: string;
}

const GLOBALS: CommandSpec = {
  name: "ptd",
  description: "",
  options: GLOBAL_OPTIONS,
  args: [["[command...]"]],
  passThrough: true,
  action: () => {},
};

/**
 * Splits `argv` into the global options before the command and the rest
 * (the command and its arguments); undefined when something there is not
 * a plain global option (help, -v, a typo), which commander then reads.
 */
export function splitGlobals(
  argv: string[],
): { flags: GlobalFlags; rest: string[] } | undefined {
  if (argv.length === 0 || argv[0][0] !== "-") return { flags: {}, rest: argv };
  const parsed = quickParse(GLOBALS, argv);
  return parsed && {
    rest: parsed[0] as string[],
    flags: parsed[1] as GlobalFlags,
  };
}

const RUNTIME_DIRS = [
  "/usr/local/bin",
  "/usr/local/sbin",
  "/usr/bin",
  "/usr/sbin",
  "/bin",
  "/sbin",
];

/**
 * Whether --runtime names a program: a path, or a name on PATH or in the
 * directories containers.conf's runtime table lists (runc is in /usr/sbin).
 */
function runtimeExists(runtime: string): boolean {
  if (!runtime.includes("/") && which(runtime)) return true;
  const paths = runtime.includes("/")
    ? [runtime]
    : RUNTIME_DIRS.map((d) => `${d}/${runtime}`);
  return paths.some((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "warning",
  "error",
  "fatal",
  "panic",
];

/**
 * Checks the global options and makes them hold for this process and its
 * children. --log-level, --events-backend, --cgroup-manager and --tmpdir are
 * checked as Podman checks them; --events-backend file or none holds for
 * this command and the monitors it starts (journald is refused: ptd keeps
 * events in a file); --cgroup-manager chooses who makes the cgroups of the
 * containers this command creates; the others change nothing: ptd logs
 * only errors, keeps no libpod state of its own and is its own runtime and
 * monitor (--runtime, --runtime-flag, --conmon, --hooks-dir).
 */
export async function applyGlobals(f: GlobalFlags): Promise<void> {
  if (f.remote || f.url !== undefined) {
    throw invalid(
      "unable to connect to Podman socket: ptd is local only and has no service to connect to",
    );
  }
  if (f.connection !== undefined) {
    throw invalid(
      `failed to resolve active destination: "${f.connection}" service destination not found`,
    );
  }
  // Scripts written for Podman name the runtime it should use (runc, crun):
  // ptd is its own, but a runtime that is not there fails as in Podman.
  if (f.runtime !== undefined && !runtimeExists(f.runtime)) {
    throw invalid(
      `default OCI runtime "${f.runtime}" not found: invalid argument`,
    );
  }
  if (f.logLevel !== undefined && !LOG_LEVELS.includes(f.logLevel)) {
    throw new PtdError(
      "invalid",
      `Log Level "${f.logLevel}" is not supported, choose from: ${
        LOG_LEVELS.join(", ")
      }`,
      1,
    );
  }
  if (
    f.eventsBackend !== undefined &&
    !["file", "journald", "none"].includes(f.eventsBackend)
  ) {
    throw invalid(
      `configuring runtime: "${f.eventsBackend}" is not a valid events backend: invalid argument`,
    );
  }
  if (f.eventsBackend === "journald") {
    throw invalid(
      "--events-backend journald: ptd keeps events in a file only (file or none)",
    );
  }
  // The monitors this command starts write their events the same way.
  if (f.eventsBackend) Deno.env.set(BACKEND_ENV, f.eventsBackend);
  if (
    f.cgroupManager !== undefined &&
    !["cgroupfs", "systemd"].includes(f.cgroupManager)
  ) {
    throw invalid(
      "configuring runtime: cgroup manager must be one of cgroupfs and systemd: invalid argument",
    );
  }
  // The engine chooses each new container's manager by it.
  if (f.cgroupManager) Deno.env.set(CGROUP_MANAGER_ENV, f.cgroupManager);
  useStoreRoots({ data: f.root, runtime: f.runroot });
  if (f.storageDriver !== undefined) {
    const { selectDriver } = await lazy<
      typeof import("../storage/driver.ts")
    >("src/storage/driver.ts");
    selectDriver(f.storageDriver, storePaths().data);
  }
  if (f.noout) {
    const { discardStdout } = await lazy<
      typeof import("../runtime/quiet.ts")
    >("src/runtime/quiet.ts");
    discardStdout();
  }
}
