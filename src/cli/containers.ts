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
import type { Listed } from "../engine/listing.ts";
import { latestContainer, type Selection } from "../engine/selection.ts";
import { displayTime, type LogRecord } from "../container/log.ts";
import type { LogFilter } from "../container/log_reader.ts";
import { parseTime } from "../engine/filters.ts";
import { invalid, isKind, notFound } from "../runtime/errors.ts";
import { checkPreservedFds } from "../container/preserved_fds.ts";
import {
  checkConditions,
  parseInterval,
  waitForCondition,
} from "../engine/wait.ts";
import {
  boolArg,
  intArg,
  mergeEnv,
  parseEnv,
  PROCESS_OPTIONS,
  readEnvFile,
  repeatable,
  uintArg,
} from "./options.ts";
import { askToContinue } from "./confirm.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";
import {
  eachRef,
  ENGINE_ERROR,
  type ExitPolicy,
  REMOVAL,
  reportError,
  reportFailures,
  withPolicy,
} from "./targets.ts";

/**
 * Prints log records to stdout and stderr, as they were written: each
 * after the container's `prefix` and, with `timestamps`, its time.
 */
export async function printLog(
  records: AsyncIterable<LogRecord>,
  opts: { timestamps?: boolean; prefix: string },
) {
  const enc = new TextEncoder();
  for await (const r of records) {
    const time = opts.timestamps ? `${displayTime(r.time)} ` : "";
    const head = enc.encode(`${opts.prefix}${time}`);
    const line = new Uint8Array(head.length + r.text.length + 1);
    line.set(head);
    line.set(r.text, head.length);
    line[line.length - 1] = 10;
    const out = r.stream === "stdout" ? Deno.stdout : Deno.stderr;
    out.writeSync(r.partial ? line.subarray(0, -1) : line);
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

/** --detach-keys of start, attach and exec. */
const DETACH_KEYS: OptionSpec = {
  flags: "--detach-keys <keys>",
  description: "key sequence that detaches from the container",
};

/** The selection flags of the bulk verbs, as Podman spells them. */
const SELECT = {
  all: (what: string): OptionSpec => ({
    flags: "-a, --all",
    description: what,
  }),
  cidfile: repeatable(
    "--cidfile <file>",
    "read the container ID from the file",
  ),
  filter: repeatable(
    "-f, --filter <filter>",
    "filter the containers (Podman's ps keys)",
  ),
  ignore: {
    flags: "-i, --ignore",
    description: "ignore errors when a named container is missing",
  },
  latest: {
    flags: "-l, --latest",
    description: "act on the latest container ptd is aware of",
  },
} satisfies Record<string, OptionSpec | ((what: string) => OptionSpec)>;

/**
 * The container a command with --latest acts on and the arguments after
 * it: with --latest, the newest container, and every argument is one of
 * the rest (`exec -l CMD`).
 */
async function latestOr(
  e: Engine,
  latest: boolean | undefined,
  ref: string | undefined,
  rest: string[] = [],
): Promise<[string, string[]]> {
  if (!latest) return [ref!, rest];
  const c = await latestContainer(e);
  return [c.id, ref === undefined ? rest : [ref, ...rest]];
}

/** Podman's refusal of --latest beside container names. */
function latestAlone(latest: boolean | undefined, refs: unknown[]) {
  if (latest && refs.some((r) => r !== undefined)) {
    throw invalid("--latest and containers cannot be used together");
  }
}

/** Accepted: an attached client always relays signals to the container. */
const SIG_PROXY: OptionSpec = {
  flags: "--sig-proxy [=bool]",
  description: "accepted: signals are always relayed",
  parse: boolArg("--sig-proxy"),
};

/** The flags SELECT declares, as the action gets them. */
interface SelectFlags {
  all?: boolean;
  cidfile?: string[];
  filter?: string[];
  ignore?: boolean;
  latest?: boolean;
}

const selection = (refs: string[], f: SelectFlags): Selection => ({
  refs,
  cidfiles: f.cidfile,
  all: f.all,
  latest: f.latest,
  filters: f.filter,
  ignore: f.ignore,
});

/**
 * Acts on the selected containers and prints each one that went, as given;
 * the failures follow, one line each (Podman's order), and decide the exit
 * code by `policy`.
 */
async function actOnSelected(
  sel: Selection,
  act: (e: Engine, id: string) => Promise<void>,
  policy: ExitPolicy = ENGINE_ERROR,
  opts: Parameters<typeof engine.eachSelected>[4] = {},
): Promise<number> {
  const outcomes = await withPolicy(policy, () =>
    engine.eachSelected(
      userEngine(),
      sel,
      act,
      (o) => o.error === undefined && console.log(o.input),
      opts,
    ));
  return reportFailures(outcomes.map((o) => o.error), policy);
}

const startSpec: CommandSpec = {
  name: "start",
  description: "Start one or more containers",
  options: [
    { flags: "--all", description: "start all containers" },
    {
      flags: "-a, --attach",
      description: "attach to the output and wait for the exit",
    },
    SELECT.filter,
    { flags: "-i, --interactive", description: "with -a, attach stdin too" },
    SELECT.latest,
    DETACH_KEYS,
    SIG_PROXY,
  ],
  args: [["[containers...]"]],
  action: async (
    refs: string[],
    f: SelectFlags & {
      attach?: boolean;
      interactive?: boolean;
      detachKeys?: string;
    },
  ) => {
    if (f.all && refs.length > 0) {
      throw invalid(
        "either start all containers or the container(s) provided in the arguments",
      );
    }
    if (!f.all && !f.latest && refs.length === 0 && !f.filter?.length) {
      throw invalid("start requires at least one argument");
    }
    if (f.attach) {
      if (refs.length > 1 || f.all) {
        throw invalid(
          "you cannot start and attach multiple containers at once",
        );
      }
      return await engine.startAttached(
        userEngine(),
        refs[0],
        !!f.interactive,
        f.detachKeys,
      );
    }
    return await actOnSelected(selection(refs, f), engine.startContainer);
  },
};

/**
 * A bulk verb: acts on each selected container and prints its name. `how`
 * gives the verb's exit policy, --all scope and --depend from its flags,
 * and checks them before any container is looked up (Podman's order).
 */
function perContainer<F extends SelectFlags>(
  name: string,
  description: string,
  options: OptionSpec[],
  act: (e: Engine, id: string, f: F) => Promise<void>,
  how: (f: F) => {
    policy?: ExitPolicy;
    scope?: (x: Listed) => boolean;
    depend?: boolean;
  } = () => ({}),
): CommandSpec {
  return {
    name,
    description,
    options,
    args: [["[containers...]"]],
    action: (refs: string[], f: F) => {
      const { policy, ...opts } = how(f);
      return actOnSelected(
        selection(refs, f),
        (e, id) => act(e, id, f),
        policy,
        opts,
      );
    },
  };
}

const TIME: OptionSpec = {
  flags: "-t, --time <seconds>",
  description: "seconds to wait for stop before killing the container",
  parse: uintArg("-t, --time"),
};

const stopSpec = perContainer(
  "stop",
  "Stop one or more running containers",
  [
    SELECT.all("stop all running containers"),
    SELECT.cidfile,
    SELECT.filter,
    SELECT.ignore,
    SELECT.latest,
    TIME,
  ],
  (e, id, f: SelectFlags & { time?: number }) =>
    engine.stopContainer(e, id, f.time),
);

const killSpec = perContainer(
  "kill",
  "Send a signal to one or more running containers",
  [
    SELECT.all("signal all running containers"),
    SELECT.cidfile,
    SELECT.latest,
    {
      flags: "-s, --signal <signal>",
      description: "signal to send",
      default: "SIGKILL",
    },
  ],
  (e, id, f: SelectFlags & { signal: string }) =>
    engine.killContainer(e, id, f.signal),
  (f) => {
    engine.checkSignal(f.signal);
    return { scope: engine.running };
  },
);

const restartSpec = perContainer(
  "restart",
  "Restart one or more containers",
  [
    SELECT.all("restart all containers"),
    SELECT.cidfile,
    SELECT.filter,
    SELECT.latest,
    { flags: "--running", description: "restart only running containers" },
    TIME,
  ],
  (e, id, f: SelectFlags & { time?: number; running?: boolean }) =>
    engine.restartContainer(e, id, f.time),
  (f) => ({
    scope: f.running ? engine.running : undefined,
  }),
);

const freezeSpec = (freeze: boolean) =>
  perContainer(
    freeze ? "pause" : "unpause",
    freeze
      ? "Pause all processes in one or more containers"
      : "Unpause all processes in one or more containers",
    [
      SELECT.all(
        freeze
          ? "pause all running containers"
          : "unpause all paused containers",
      ),
      SELECT.cidfile,
      SELECT.filter,
      SELECT.latest,
    ],
    (e, id) => engine.pauseContainer(e, id, freeze),
    // ptd pauses nothing yet: no container is paused for unpause --all.
    () => ({ scope: freeze ? engine.running : () => false }),
  );

interface RmFlags extends SelectFlags {
  force?: boolean;
  volumes?: boolean;
  depend?: boolean;
  time?: number;
}

/** --all without a --filter: every container there is. */
const everything = (f: SelectFlags) => !!f.all && !f.filter?.length;

const rmBulk = perContainer(
  "rm",
  "Remove one or more containers",
  [
    SELECT.all("remove all containers"),
    SELECT.cidfile,
    {
      flags: "--depend",
      description: "remove the containers that depend on it too",
    },
    { ...SELECT.filter, flags: "--filter <filter>" },
    { flags: "-f, --force", description: "kill and remove running containers" },
    SELECT.ignore,
    SELECT.latest,
    TIME,
    { flags: "-v, --volumes", description: "remove anonymous volumes too" },
  ],
  // Every container (--all, no --filter): each before those it depends
  // on, a pod's infra container last, with its pod, as Podman does.
  (e, id, f: RmFlags) =>
    engine.removeContainer(e, id, {
      ...f,
      infra: everything(f) ? "pod" : undefined,
    }),
  (f) => ({ policy: REMOVAL, depend: f.depend || everything(f) }),
);

const rmSpec: CommandSpec = {
  ...rmBulk,
  // -f: a container that is not there is no failure (Podman: exit 0).
  action: (refs: string[], f: RmFlags) => {
    if (f.time !== undefined && !f.force) {
      throw invalid(
        "--force option must be specified to use the --time option",
      );
    }
    return rmBulk.action(refs, { ...f, ignore: f.ignore || f.force });
  },
};

/** Parses --since/--until in Podman's words. */
function logTime(flag: string, value: string | undefined) {
  if (value === undefined) return undefined;
  try {
    return parseTime(value);
  } catch {
    throw invalid(`parsing ${flag} "${value}": unable to interpret time value`);
  }
}

/** `logs` (`pod logs` shows its containers' logs through it). */
export const logsSpec: CommandSpec = {
  name: "logs",
  description: "Fetch the logs of one or more containers",
  options: [
    { flags: "-f, --follow", description: "follow log output" },
    { flags: "-t, --timestamps", description: "show timestamps" },
    {
      flags: "-n, --names",
      description: "output the container name in the log",
    },
    SELECT.latest,
    {
      flags: "--tail <n>",
      description: "number of lines from the end (-1: all)",
      parse: intArg("--tail"),
      default: -1,
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
  args: [["[containers...]"]],
  action: async (
    refs: string[],
    f: {
      follow?: boolean;
      timestamps?: boolean;
      names?: boolean;
      latest?: boolean;
      tail: number;
      since?: string;
      until?: string;
    },
  ) => {
    if (refs.length === 0 && !f.latest) {
      throw invalid("specify at least one container name or ID to log");
    }
    latestAlone(f.latest, refs);
    const filter: LogFilter = {
      since: logTime("--since", f.since),
      until: logTime("--until", f.until),
      tail: f.tail < 0 ? undefined : f.tail,
    };
    const logs = await engine.containerLogs(
      userEngine(),
      { refs, latest: f.latest },
      filter,
      f.follow,
    );
    const show = (l: engine.ContainerLog) =>
      printLog(l.records, {
        timestamps: f.timestamps,
        prefix: logs.length < 2
          ? ""
          : `${f.names ? l.name : l.id.slice(0, 12)} `,
      });
    // Followed logs come as they are written; others one container after
    // the other.
    if (f.follow) await Promise.all(logs.map(show));
    else for (const l of logs) await show(l);
  },
};

const waitSpec: CommandSpec = {
  name: "wait",
  description: "Wait for containers to stop; print their exit codes",
  options: [
    repeatable(
      "--condition <state>",
      "state to wait for: stopped (default), exited, running, created",
    ),
    SELECT.latest,
    {
      flags: "-i, --interval <duration>",
      description: "time between polls for a --condition",
      default: "250ms",
    },
  ],
  args: [["<containers...>"]],
  latest: true,
  action: async (
    refs: string[],
    f: { condition: string[]; interval: string; latest?: boolean },
  ) => {
    checkConditions(f.condition);
    const interval = parseInterval(f.interval);
    latestAlone(f.latest, refs);
    const e = userEngine();
    if (f.latest) refs = [(await latestContainer(e)).id];
    return await eachRef(refs, async (e, ref) => {
      console.log(await waitForCondition(e, ref, f.condition, interval));
    });
  },
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
  options: [SELECT.latest],
  args: [["<container>"], [
    "[descriptors...]",
    "format descriptors, or ps(1) options",
  ]],
  passThrough: true,
  latest: true,
  action: async (
    first: string | undefined,
    rest: string[],
    f: { latest?: boolean },
  ) => {
    const e = userEngine();
    const [ref, args] = await latestOr(e, f.latest, first, rest).catch(
      (err) => {
        if (!isKind(err, "not-found")) throw err;
        throw notFound(`unable to look up requested container: ${err.message}`);
      },
    );
    const lines = await engine.topContainer(e, ref, args);
    console.log(lines.join("\n"));
  },
};

interface ExecFlags {
  latest?: boolean;
  privileged?: boolean;
  preserveFds?: number;
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  detachKeys?: string;
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
    {
      flags: "--privileged",
      description: "give the process every capability",
    },
    {
      flags: "--preserve-fds <n>",
      description: "pass descriptors 3 to 3+N-1 on to the process",
      parse: uintArg("--preserve-fds"),
    },
    DETACH_KEYS,
    SELECT.latest,
  ],
  args: [["<container>"], ["[command...]"]],
  passThrough: true,
  latest: true,
  action: async (
    first: string | undefined,
    rest: string[],
    f: ExecFlags,
  ) => {
    if (f.preserveFds) checkPreservedFds(f.preserveFds);
    const env = mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile));
    const e = userEngine();
    const [ref, command] = await latestOr(e, f.latest, first, rest);
    // Podman: exec in a container that is not running ends with 255.
    return await execPolicy(() =>
      engine.execContainer(e, ref, {
        command,
        env,
        user: f.user,
        workdir: f.workdir,
        interactive: !!f.interactive,
        detach: !!f.detach,
        tty: !!f.tty,
        detachKeys: f.detachKeys,
        privileged: !!f.privileged,
        preserveFds: f.preserveFds,
      })
    );
  },
};

const attachSpec: CommandSpec = {
  name: "attach",
  description: "Attach to a running container's output and input",
  options: [
    { flags: "--no-stdin", description: "do not attach stdin" },
    DETACH_KEYS,
    SELECT.latest,
    SIG_PROXY,
  ],
  args: [["<container>"]],
  latest: true,
  action: async (
    first: string | undefined,
    f: { stdin: boolean; detachKeys?: string; latest?: boolean },
  ) => {
    latestAlone(f.latest, [first]);
    const e = userEngine();
    const [ref] = await latestOr(e, f.latest, first);
    return await engine.attachContainer(e, ref, f.stdin, f.detachKeys);
  },
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
      flags: "-a, --archive [=bool]",
      description:
        "chown copied files to the container's primary uid/gid (else its root)",
      parse: boolArg("-a, --archive"),
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
  action: async (src: string, dest: string, f: { archive: boolean }) => {
    const e = userEngine();
    const from = containerPath(src), to = containerPath(dest);
    if (!from && !to) {
      throw invalid(
        "copying on the host is not supported: src or dest must be CONTAINER:PATH",
      );
    }
    if (from && to) {
      await engine.copyBetween(e, from[0], from[1], to[0], to[1], f.archive);
    } else if (from) await engine.copyFrom(e, from[0], from[1], dest);
    else await engine.copyTo(e, to![0], src, to![1], f.archive);
  },
};

/** `container prune`, under the `container` group. */
export const containerPruneSpec: CommandSpec = {
  name: "prune",
  description: "Remove all stopped containers",
  options: [
    repeatable(
      "--filter <filter>",
      "only the containers these select (label=KEY=VALUE, until=TIME)",
    ),
    { flags: "-f, --force", description: "do not ask for confirmation" },
  ],
  args: [],
  action: async (f: { filter: string[]; force?: boolean }) => {
    if (
      !f.force &&
      !askToContinue("WARNING! This will remove all non running containers.")
    ) return 0;
    const report = await engine.pruneContainers(userEngine(), f.filter);
    for (const id of report.removed) console.log(id);
    return reportFailures(report.errors.map((x) => x.error));
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
