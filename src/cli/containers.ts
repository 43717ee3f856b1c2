/**
 * The container lifecycle commands: start, stop, kill, restart, rm, logs,
 * wait, rename, top, exec, attach, cp, pause, unpause, container prune. Thin: parsing and printing around src/container. They
 * are declared as specs (spec.ts), so that they run without commander.
 */
import { conflict, invalid } from "../runtime/errors.ts";
import type { ContainerConfig } from "../container/config.ts";
import {
  attachContainer,
  freezeContainer,
  killContainer,
  removeContainer,
  runAttached,
  startContainer,
  stopContainer,
  waitContainer,
} from "../container/lifecycle.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import { followLog, type LogFilter } from "../container/log.ts";
import type { ContainerStore } from "../container/store.ts";
import { execInContainer } from "../container/exec.ts";
import { copyFromContainer, copyToContainer } from "../container/cp.ts";
import { mergeEnv, parseEnv, PROCESS_OPTIONS, readEnvFile } from "./options.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";
import { containerStore as store, eachContainer } from "./targets.ts";
import { removeAnonymousVolumes } from "../volume/ops.ts";
import { VolumeStore } from "../volume/store.ts";

/** Prints the container's log records; returns when `more()` says stop. */
async function printLog(
  s: ContainerStore,
  c: ContainerConfig,
  filter: LogFilter,
  more: () => Promise<boolean>,
  timestamps = false,
) {
  const enc = new TextEncoder();
  for await (const r of followLog(s.logFile(c.id), filter, more)) {
    const text = `${timestamps ? `${r.time} ` : ""}${r.text}${
      r.partial ? "" : "\n"
    }`;
    const out = r.stream === "stdout" ? Deno.stdout : Deno.stderr;
    out.writeSync(enc.encode(text));
  }
}

/** True while the container may still write to its log. */
const stillRunning = (s: ContainerStore, id: string) => async () => {
  try {
    const st = await reconcile(s, id);
    return monitorAlive(st);
  } catch {
    return false;
  }
};

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
      const s = store();
      const c = s.find(refs[0]);
      const stdin = !!f.interactive && c.host.interactive;
      return await runAttached(s, c, stdin);
    }
    return await eachContainer(refs, async (s, c, ref) => {
      await startContainer(s, c);
      console.log(ref);
    });
  },
};

/** A command that acts on each named container and prints its name. */
function perContainer<F>(
  name: string,
  description: string,
  options: OptionSpec[],
  act: (s: ContainerStore, c: ContainerConfig, f: F) => Promise<void>,
): CommandSpec {
  return {
    name,
    description,
    options,
    args: [["<containers...>"]],
    action: (refs: string[], f: F) =>
      eachContainer(refs, async (s, c, ref) => {
        await act(s, c, f);
        console.log(ref);
      }),
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
  (s, c, f: { time?: string }) => stopContainer(s, c, seconds(f.time)),
);

const killSpec = perContainer(
  "kill",
  "Send a signal to one or more running containers",
  [{
    flags: "-s, --signal <signal>",
    description: "signal to send",
    default: "SIGKILL",
  }],
  (s, c, f: { signal: string }) => killContainer(s, c, f.signal),
);

const restartSpec = perContainer(
  "restart",
  "Restart one or more containers",
  [TIME],
  async (s, c, f: { time?: string }) => {
    await stopContainer(s, c, seconds(f.time));
    await startContainer(s, c);
  },
);

const freezeSpec = (freeze: boolean) =>
  perContainer(
    freeze ? "pause" : "unpause",
    freeze
      ? "Pause all processes in one or more containers"
      : "Unpause all processes in one or more containers",
    [],
    (s, c) => freezeContainer(s, c, freeze),
  );

const rmSpec = perContainer(
  "rm",
  "Remove one or more containers",
  [
    { flags: "-f, --force", description: "kill and remove running containers" },
    { flags: "-v, --volumes", description: "remove anonymous volumes too" },
  ],
  async (s, c, f: { force?: boolean; volumes?: boolean }) => {
    await removeContainer(s, c, !!f.force);
    if (f.volumes) await removeAnonymousVolumes(new VolumeStore(s.paths), c);
  },
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
    const s = store();
    const c = s.find(ref);
    const filter: LogFilter = {
      since: f.since === undefined ? undefined : parseTime(f.since),
      until: f.until === undefined ? undefined : parseTime(f.until),
      tail: f.tail === "all" || Number(f.tail) < 0 ? undefined : Number(f.tail),
    };
    const more = f.follow
      ? stillRunning(s, c.id)
      : () => Promise.resolve(false);
    await printLog(s, c, filter, more, f.timestamps);
  },
};

const waitSpec: CommandSpec = {
  name: "wait",
  description: "Wait for containers to stop; print their exit codes",
  options: [],
  args: [["<containers...>"]],
  action: (refs: string[]) =>
    eachContainer(refs, async (s, c) => {
      console.log(await waitContainer(s, c));
    }),
};

const renameSpec: CommandSpec = {
  name: "rename",
  description: "Rename a container",
  options: [],
  args: [["<container>"], ["<name>"]],
  action: async (ref: string, name: string) => {
    const s = store();
    await s.rename(s.find(ref).id, name);
  },
};

/** Pids of every process in the container's PID namespace. */
function containerPids(pid: number): number[] {
  const ns = Deno.readLinkSync(`/proc/${pid}/ns/pid`);
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${e.name}/ns/pid`) === ns) {
        out.push(Number(e.name));
      }
    } catch { /* gone meanwhile, or not ours */ }
  }
  return out;
}

const topSpec: CommandSpec = {
  name: "top",
  description: "Show the processes of a container",
  options: [],
  args: [["<container>"], ["[ps-options...]"]],
  action: async (ref: string, psArgs: string[]) => {
    const s = store();
    const c = s.find(ref);
    const st = await reconcile(s, c.id);
    if (st.status !== "running" || !monitorAlive(st)) {
      throw conflict(`container ${c.id} is not running`);
    }
    const opts = psArgs.length > 0 ? psArgs : ["-f"];
    const out = await new Deno.Command("ps", {
      args: [...opts, "-p", containerPids(st.pid).join(",")],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return out.success ? 0 : 125;
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
    const s = store();
    const env = mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile));
    return execInContainer(s, s.find(ref), {
      command,
      env,
      user: f.user,
      workdir: f.workdir,
      interactive: !!f.interactive,
      detach: !!f.detach,
      tty: !!f.tty,
    });
  },
};

const attachSpec: CommandSpec = {
  name: "attach",
  description: "Attach to a running container's output and input",
  options: [{ flags: "--no-stdin", description: "do not attach stdin" }],
  args: [["<container>"]],
  action: (ref: string, f: { stdin: boolean }) => {
    const s = store();
    const c = s.find(ref);
    return attachContainer(s, c, f.stdin && c.host.interactive);
  },
};

/** "NAME:PATH" -> the container part, or undefined for a host path. */
function containerPath(arg: string): [string, string] | undefined {
  const m = /^([^/:.][^/:]*):(.*)$/.exec(arg);
  return m ? [m[1], m[2] || "/"] : undefined;
}

const cpSpec: CommandSpec = {
  name: "cp",
  description: "Copy files between a running container and the host",
  options: [],
  args: [
    ["<src>", "CONTAINER:PATH or a host path"],
    ["<dest>", "CONTAINER:PATH or a host path"],
  ],
  action: async (src: string, dest: string) => {
    const s = store();
    const from = containerPath(src), to = containerPath(dest);
    if (!from === !to) {
      throw invalid(
        "copying between containers, or on the host, is not supported: one of src and dest must be CONTAINER:PATH",
      );
    }
    if (from) await copyFromContainer(s, s.find(from[0]), from[1], dest);
    else await copyToContainer(s, s.find(to![0]), src, to![1]);
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
    const s = store();
    const stopped = [];
    for (const c of s.list()) {
      if (!monitorAlive(await reconcile(s, c.id))) stopped.push(c.id);
    }
    // One that a running container's network depends on is reported, and
    // the others still go.
    return await eachContainer(stopped, async (s, c) => {
      await removeContainer(s, c, false);
      console.log(c.id);
    });
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
