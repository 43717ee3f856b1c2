/**
 * The container lifecycle commands: start, stop, kill, restart, rm, logs,
 * wait, rename, top, exec, attach, cp, pause, unpause, container prune.
 * Each is parsing, one engine call per container (src/engine/lifecycle.ts)
 * and printing. They are declared as specs (spec.ts), so that they run
 * without commander.
 */
import { userEngine } from "../engine/engine.ts";
import * as engine from "../engine/lifecycle.ts";
import type { Engine } from "../engine/engine.ts";
import type { LogFilter, LogRecord } from "../container/log.ts";
import { invalid, isKind } from "../runtime/errors.ts";
import {
  boolArg,
  mergeEnv,
  parseEnv,
  PROCESS_OPTIONS,
  readEnvFile,
} from "./options.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";
import { eachRef, type ExitPolicy, REMOVAL, reportError } from "./targets.ts";

/** Prints log records to stdout and stderr, as they were written. */
async function printLog(records: AsyncIterable<LogRecord>, timestamps = false) {
  const enc = new TextEncoder();
  for await (const r of records) {
    const text = `${timestamps ? `${r.time} ` : ""}${r.text}${
      r.partial ? "" : "\n"
    }`;
    const out = r.stream === "stdout" ? Deno.stdout : Deno.stderr;
    out.writeSync(enc.encode(text));
  }
}

/** exec's failures: Podman ends with 255 when the container is not running. */
async function execPolicy(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!isKind(err, "conflict")) throw err;
    reportError(err);
    return 255;
  }
}

const startSpec: CommandSpec = {
  name: "start",
  description: "Start one or more containers",
  options: [
    {
      flags: "-a, --attach",
      description: "attach to the output and wait for the exit",
    },
    { flags: "-i, --interactive", description: "with -a, attach stdin too" },
  ],
  args: [["<containers...>"]],
  action: async (
    refs: string[],
    f: { attach?: boolean; interactive?: boolean },
  ) => {
    if (f.attach) {
      if (refs.length > 1) {
        throw invalid(
          "you cannot start and attach multiple containers at once",
        );
      }
      return await engine.startAttached(userEngine(), refs[0], !!f.interactive);
    }
    return await eachRef(refs, async (e, ref) => {
      await engine.startContainer(e, ref);
      console.log(ref);
    });
  },
};

/** A command that acts on each named container and prints its name. */
function perContainer<F>(
  name: string,
  description: string,
  options: OptionSpec[],
  act: (e: Engine, ref: string, f: F) => Promise<void>,
  policy?: (f: F) => ExitPolicy,
): CommandSpec {
  return {
    name,
    description,
    options,
    args: [["<containers...>"]],
    action: (refs: string[], f: F) =>
      eachRef(refs, async (e, ref) => {
        await act(e, ref, f);
        console.log(ref);
      }, policy?.(f)),
  };
}

const seconds = (t?: string) => t === undefined ? undefined : Number(t);

const TIME: OptionSpec = {
  flags: "-t, --time <seconds>",
  description: "seconds to wait before killing",
};

const stopSpec = perContainer(
  "stop",
  "Stop one or more running containers",
  [TIME],
  (e, ref, f: { time?: string }) =>
    engine.stopContainer(e, ref, seconds(f.time)),
);

const killSpec = perContainer(
  "kill",
  "Send a signal to one or more running containers",
  [{
    flags: "-s, --signal <signal>",
    description: "signal to send",
    default: "SIGKILL",
  }],
  (e, ref, f: { signal: string }) => engine.killContainer(e, ref, f.signal),
);

const restartSpec = perContainer(
  "restart",
  "Restart one or more containers",
  [TIME],
  (e, ref, f: { time?: string }) =>
    engine.restartContainer(e, ref, seconds(f.time)),
);

const freezeSpec = (freeze: boolean) =>
  perContainer(
    freeze ? "pause" : "unpause",
    freeze
      ? "Pause all processes in one or more containers"
      : "Unpause all processes in one or more containers",
    [],
    (e, ref) => engine.pauseContainer(e, ref, freeze),
  );

/** rm -f: a container that is not there is no failure (Podman: exit 0). */
const forcedRemoval: ExitPolicy = (kinds) => {
  const rest = kinds.filter((k) => k !== "not-found");
  return rest.length === 0 ? 0 : REMOVAL(rest);
};

const rmSpec = perContainer(
  "rm",
  "Remove one or more containers",
  [
    { flags: "-f, --force", description: "kill and remove running containers" },
    { flags: "-v, --volumes", description: "remove anonymous volumes too" },
  ],
  (e, ref, f: { force?: boolean; volumes?: boolean }) =>
    engine.removeContainer(e, ref, f),
  (f) => f.force ? forcedRemoval : REMOVAL,
);

/** --since/--until: RFC 3339, Unix seconds, or a Go duration before now. */
export function parseTime(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join("") === value) {
    return now - parts.reduce((t, p) => t + Number(p[1]) * units[p[2]], 0);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid time ${JSON.stringify(value)}`);
  return t;
}

const logsSpec: CommandSpec = {
  name: "logs",
  description: "Fetch the logs of a container",
  options: [
    { flags: "-f, --follow", description: "follow log output" },
    { flags: "-t, --timestamps", description: "show timestamps" },
    {
      flags: "-n, --tail <n>",
      description: "number of lines from the end",
      default: "all",
    },
    {
      flags: "--since <time>",
      description: "show logs since a time or duration",
    },
    {
      flags: "--until <time>",
      description: "show logs until a time or duration",
    },
  ],
  args: [["<container>"]],
  action: async (
    ref: string,
    f: {
      follow?: boolean;
      timestamps?: boolean;
      tail: string;
      since?: string;
      until?: string;
    },
  ) => {
    const filter: LogFilter = {
      since: f.since === undefined ? undefined : parseTime(f.since),
      until: f.until === undefined ? undefined : parseTime(f.until),
      tail: f.tail === "all" || Number(f.tail) < 0 ? undefined : Number(f.tail),
    };
    const records = engine.containerLogs(userEngine(), ref, filter, f.follow);
    await printLog(records, f.timestamps);
  },
};

const waitSpec: CommandSpec = {
  name: "wait",
  description: "Wait for containers to stop; print their exit codes",
  options: [],
  args: [["<containers...>"]],
  action: (refs: string[]) =>
    eachRef(refs, async (e, ref) => {
      console.log(await engine.waitContainer(e, ref));
    }),
};

const renameSpec: CommandSpec = {
  name: "rename",
  description: "Rename a container",
  options: [],
  args: [["<container>"], ["<name>"]],
  action: (ref: string, name: string) =>
    engine.renameContainer(userEngine(), ref, name),
};

const topSpec: CommandSpec = {
  name: "top",
  description: "Show the processes of a container",
  options: [],
  args: [["<container>"], [
    "[descriptors...]",
    "format descriptors, or ps(1) options",
  ]],
  passThrough: true,
  action: async (ref: string, args: string[]) => {
    const lines = await engine.topContainer(userEngine(), ref, args);
    console.log(lines.join("\n"));
  },
};

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
}

const execSpec: CommandSpec = {
  name: "exec",
  description: "Run a command in a running container",
  options: [
    PROCESS_OPTIONS.interactive,
    PROCESS_OPTIONS.tty,
    { flags: "-d, --detach", description: "run the command in the background" },
    PROCESS_OPTIONS.env,
    PROCESS_OPTIONS.envFile,
    PROCESS_OPTIONS.user,
    PROCESS_OPTIONS.workdir,
  ],
  args: [["<container>"], ["<command...>"]],
  passThrough: true,
  action: (ref: string, command: string[], f: ExecFlags) => {
    const env = mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile));
    // Podman: exec in a container that is not running ends with 255.
    return execPolicy(() =>
      engine.execContainer(userEngine(), ref, {
        command,
        env,
        user: f.user,
        workdir: f.workdir,
        interactive: !!f.interactive,
        detach: !!f.detach,
        tty: !!f.tty,
      })
    );
  },
};

const attachSpec: CommandSpec = {
  name: "attach",
  description: "Attach to a running container's output and input",
  options: [{ flags: "--no-stdin", description: "do not attach stdin" }],
  args: [["<container>"]],
  action: (ref: string, f: { stdin: boolean }) =>
    engine.attachContainer(userEngine(), ref, f.stdin),
};

/** "NAME:PATH" -> the container part, or undefined for a host path. */
function containerPath(arg: string): [string, string] | undefined {
  const m = /^([^/:.][^/:]*):(.*)$/.exec(arg);
  return m ? [m[1], m[2] || "/"] : undefined;
}

const cpSpec: CommandSpec = {
  name: "cp",
  description:
    "Copy files/folders between a container and the local filesystem",
  options: [
    {
      flags: "-a, --archive [bool]",
      description:
        "accepted: copied files get the container's primary uid/gid, as in Podman",
      parse: boolArg("--archive"),
      default: true,
    },
    {
      flags: "--overwrite",
      description:
        "accepted: directories and non-directories replace each other",
    },
  ],
  args: [
    ["<src>", "CONTAINER:PATH or a host path; - is a tar on stdin"],
    ["<dest>", "CONTAINER:PATH or a host path; - is a tar to stdout"],
  ],
  action: async (src: string, dest: string) => {
    const e = userEngine();
    const from = containerPath(src), to = containerPath(dest);
    if (!from && !to) {
      throw invalid(
        "copying on the host is not supported: src or dest must be CONTAINER:PATH",
      );
    }
    if (from && to) {
      await engine.copyBetween(e, from[0], from[1], to[0], to[1]);
    } else if (from) await engine.copyFrom(e, from[0], from[1], dest);
    else await engine.copyTo(e, to![0], src, to![1]);
  },
};

/** `container prune`, under the `container` group. */
export const containerPruneSpec: CommandSpec = {
  name: "prune",
  description: "Remove all stopped containers",
  options: [{
    flags: "-f, --force",
    description: "do not ask for confirmation",
  }],
  args: [],
  action: async () => {
    const report = await engine.pruneContainers(userEngine());
    for (const id of report.removed) console.log(id);
    for (const { error } of report.errors) reportError(error);
    return report.errors.length > 0 ? 125 : 0;
  },
};

/** Every lifecycle command but `container prune` and the listings. */
export const specs: CommandSpec[] = [
  startSpec,
  stopSpec,
  killSpec,
  restartSpec,
  rmSpec,
  logsSpec,
  waitSpec,
  renameSpec,
  topSpec,
  execSpec,
  attachSpec,
  cpSpec,
  freezeSpec(true),
  freezeSpec(false),
];
