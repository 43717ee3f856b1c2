/**
 * The container lifecycle commands: create, start, stop, kill, restart, rm,
 * ps, logs, inspect, wait, rename, top, container prune. Thin: parsing and
 * printing around src/container.
 */
import { Command } from "commander";
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
import { isActive, monitorAlive, reconcile } from "../container/liveness.ts";
import { followLog, type LogFilter } from "../container/log.ts";
import { logPath } from "../container/monitor.ts";
import { inspectDoc, psRow } from "../container/present.ts";
import { ContainerStore } from "../container/store.ts";
import { storePaths } from "../storage/paths.ts";
import { execInContainer } from "../container/exec.ts";
import { copyFromContainer, copyToContainer } from "../container/cp.ts";
import { printFormatted, renderTemplate, table } from "./format.ts";
import { collect, mergeEnv, parseEnv, readEnvFile } from "./options.ts";
import { addCreateOptions, createFromFlags } from "./run.ts";
import { removeAnonymousVolumes } from "../volume/ops.ts";
import { VolumeStore } from "../volume/store.ts";

type SetCode = (code: number) => void;

const store = () => new ContainerStore(storePaths());

/**
 * Runs `fn` for each named container like Docker: a failure is reported
 * for that name and the others still go; the exit code is 125 if any failed.
 */
async function eachContainer(
  refs: string[],
  setCode: SetCode,
  fn: (s: ContainerStore, c: ContainerConfig, ref: string) => Promise<void>,
) {
  const s = store();
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(s, s.find(ref), ref);
    } catch (e) {
      failed = true;
      console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  setCode(failed ? 125 : 0);
}

function createCommand(setCode: SetCode): Command {
  return addCreateOptions(
    new Command("create")
      .description("Create a new container without starting it")
      .option("--rm", "remove the container when it exits"),
  ).action(async (image: string, command: string[], f) => {
    const { c } = await createFromFlags(image, command, f);
    console.log(c.id);
    setCode(0);
  });
}

/** Prints the container's log records; returns when `more()` says stop. */
async function printLog(
  s: ContainerStore,
  c: ContainerConfig,
  filter: LogFilter,
  more: () => Promise<boolean>,
  timestamps = false,
) {
  const enc = new TextEncoder();
  for await (const r of followLog(logPath(s, c.id), filter, more)) {
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

function startCommand(setCode: SetCode): Command {
  return new Command("start")
    .description("Start one or more containers")
    .option("-a, --attach", "attach to the output and wait for the exit")
    .option("-i, --interactive", "with -a, attach stdin too")
    .argument("<containers...>")
    .action(
      async (
        refs: string[],
        f: { attach?: boolean; interactive?: boolean },
      ) => {
        if (f.attach) {
          if (refs.length > 1) {
            throw new Error(
              "you cannot start and attach multiple containers at once",
            );
          }
          const s = store();
          const c = s.find(refs[0]);
          const stdin = !!f.interactive && c.host.interactive;
          return setCode(await runAttached(s, c, stdin));
        }
        await eachContainer(refs, setCode, async (s, c, ref) => {
          await startContainer(s, c);
          console.log(ref);
        });
      },
    );
}

/** A command that acts on each named container and prints its name. */
function perContainer<F>(
  name: string,
  description: string,
  setCode: SetCode,
  act: (s: ContainerStore, c: ContainerConfig, f: F) => Promise<void>,
): Command {
  return new Command(name)
    .description(description)
    .argument("<containers...>")
    .action(async (refs: string[], f: F) => {
      await eachContainer(refs, setCode, async (s, c, ref) => {
        await act(s, c, f);
        console.log(ref);
      });
    });
}

const seconds = (t?: string) => t === undefined ? undefined : Number(t);

function stopCommand(setCode: SetCode): Command {
  return perContainer(
    "stop",
    "Stop one or more running containers",
    setCode,
    (s, c, f: { time?: string }) => stopContainer(s, c, seconds(f.time)),
  ).option("-t, --time <seconds>", "seconds to wait before killing");
}

function killCommand(setCode: SetCode): Command {
  return perContainer(
    "kill",
    "Send a signal to one or more running containers",
    setCode,
    (s, c, f: { signal: string }) => killContainer(s, c, f.signal),
  ).option("-s, --signal <signal>", "signal to send", "SIGKILL");
}

function restartCommand(setCode: SetCode): Command {
  return perContainer(
    "restart",
    "Restart one or more containers",
    setCode,
    async (s, c, f: { time?: string }) => {
      await stopContainer(s, c, seconds(f.time));
      await startContainer(s, c);
    },
  ).option("-t, --time <seconds>", "seconds to wait before killing");
}

function freezeCommand(setCode: SetCode, freeze: boolean): Command {
  return perContainer(
    freeze ? "pause" : "unpause",
    freeze
      ? "Pause all processes in one or more containers"
      : "Unpause all processes in one or more containers",
    setCode,
    (s, c) => freezeContainer(s, c, freeze),
  );
}

function rmCommand(setCode: SetCode): Command {
  return perContainer(
    "rm",
    "Remove one or more containers",
    setCode,
    async (s, c, f: { force?: boolean; volumes?: boolean }) => {
      await removeContainer(s, c, !!f.force);
      if (f.volumes) await removeAnonymousVolumes(new VolumeStore(s.paths), c);
    },
  ).option("-f, --force", "kill and remove running containers")
    .option("-v, --volumes", "remove anonymous volumes too");
}

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  noTrunc?: boolean;
  filter: string[];
  format?: string;
}

function matches(filter: string, c: ContainerConfig, status: string): boolean {
  const i = filter.indexOf("=");
  if (i < 0) {
    throw new Error(`invalid filter ${JSON.stringify(filter)}: use key=value`);
  }
  const key = filter.slice(0, i), value = filter.slice(i + 1);
  switch (key) {
    case "name":
      return new RegExp(value).test(c.name);
    case "id":
      return c.id.startsWith(value);
    case "status":
      return status === value;
    case "ancestor":
      return c.image === value || c.imageId.startsWith(value);
    case "label": {
      const j = value.indexOf("=");
      return j < 0
        ? value in c.labels
        : c.labels[value.slice(0, j)] === value.slice(j + 1);
    }
    default:
      throw new Error(`invalid filter ${JSON.stringify(key)}`);
  }
}

function psCommand(setCode: SetCode): Command {
  return new Command("ps")
    .description("List containers")
    .option("-a, --all", "show all containers, not only running ones")
    .option("-q, --quiet", "print only the ids")
    .option("-n, --last <n>", "show the n last created containers")
    .option("-l, --latest", "show the latest created container")
    .option("--no-trunc", "do not truncate output")
    .option(
      "-f, --filter <filter>",
      "filter output (name, status, label, ancestor, id)",
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option("--format <format>", "json or a Go template")
    .action(async (f: PsFlags & { trunc?: boolean }) => {
      const s = store();
      const full = f.trunc === false;
      const n = f.latest ? 1 : f.last === undefined ? -1 : Number(f.last);
      const rows = [];
      for (const c of s.list()) {
        const st = await reconcile(s, c.id);
        const shown = f.all || n >= 0 || f.filter.length > 0 || isActive(st);
        if (!shown || !f.filter.every((x) => matches(x, c, st.status))) {
          continue;
        }
        rows.push(psRow(c, st, full));
      }
      rows.reverse(); // newest first, as Docker lists them
      if (n >= 0) rows.splice(n);
      if (f.quiet) {
        for (const r of rows) console.log(r.ID);
      } else if (f.format) {
        printFormatted(f.format, rows);
      } else {
        console.log(table([
          [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
          ],
          ...rows.map((
            r,
          ) => [
            r.ID,
            r.Image,
            r.Command,
            r.RunningFor,
            r.Status,
            r.Ports,
            r.Names,
          ]),
        ]));
      }
      setCode(0);
    });
}

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
  if (Number.isNaN(t)) throw new Error(`invalid time ${JSON.stringify(value)}`);
  return t;
}

function logsCommand(setCode: SetCode): Command {
  return new Command("logs")
    .description("Fetch the logs of a container")
    .option("-f, --follow", "follow log output")
    .option("-t, --timestamps", "show timestamps")
    .option("-n, --tail <n>", "number of lines from the end", "all")
    .option("--since <time>", "show logs since a time or duration")
    .option("--until <time>", "show logs until a time or duration")
    .argument("<container>")
    .action(
      async (
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
          tail: f.tail === "all" || Number(f.tail) < 0
            ? undefined
            : Number(f.tail),
        };
        const more = f.follow
          ? stillRunning(s, c.id)
          : () => Promise.resolve(false);
        await printLog(s, c, filter, more, f.timestamps);
        setCode(0);
      },
    );
}

function inspectCommand(setCode: SetCode): Command {
  return new Command("inspect")
    .description("Show details of containers")
    .option("-f, --format <format>", "a Go template")
    .argument("<containers...>")
    .action(async (refs: string[], f: { format?: string }) => {
      const s = store();
      const docs = [];
      let failed = false;
      for (const ref of refs) {
        try {
          const c = s.find(ref);
          docs.push(inspectDoc(s, c, await reconcile(s, c.id)));
        } catch (e) {
          failed = true;
          console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (f.format) {
        for (const d of docs) console.log(renderTemplate(f.format, d));
      } else {
        console.log(JSON.stringify(docs, null, 4));
      }
      setCode(failed ? 125 : 0);
    });
}

function waitCommand(setCode: SetCode): Command {
  return new Command("wait")
    .description("Wait for containers to stop; print their exit codes")
    .argument("<containers...>")
    .action(async (refs: string[]) => {
      await eachContainer(refs, setCode, async (s, c) => {
        console.log(await waitContainer(s, c));
      });
    });
}

function renameCommand(setCode: SetCode): Command {
  return new Command("rename")
    .description("Rename a container")
    .argument("<container>")
    .argument("<name>")
    .action(async (ref: string, name: string) => {
      const s = store();
      await s.rename(s.find(ref).id, name);
      setCode(0);
    });
}

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

function topCommand(setCode: SetCode): Command {
  return new Command("top")
    .description("Show the processes of a container")
    .argument("<container>")
    .argument("[ps-options...]")
    .action(async (ref: string, psArgs: string[]) => {
      const s = store();
      const c = s.find(ref);
      const st = await reconcile(s, c.id);
      if (st.status !== "running" || !monitorAlive(st)) {
        throw new Error(`container ${c.id} is not running`);
      }
      const opts = psArgs.length > 0 ? psArgs : ["-f"];
      const out = await new Deno.Command("ps", {
        args: [...opts, "-p", containerPids(st.pid).join(",")],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      setCode(out.success ? 0 : 125);
    });
}

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
}

function execCommand(setCode: SetCode): Command {
  return new Command("exec")
    .description("Run a command in a running container")
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "allocate a pseudo-TTY")
    .option("-d, --detach", "run the command in the background")
    .option("-e, --env <env>", "set environment variables", collect, [])
    .option(
      "--env-file <file>",
      "read environment variables from a file",
      collect,
      [],
    )
    .option("-u, --user <user>", "user[:group] to run as")
    .option("-w, --workdir <dir>", "working directory inside the container")
    .argument("<container>")
    .argument("<command...>")
    .passThroughOptions()
    .action(async (ref: string, command: string[], f: ExecFlags) => {
      const s = store();
      const env = mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile));
      setCode(
        await execInContainer(s, s.find(ref), {
          command,
          env,
          user: f.user,
          workdir: f.workdir,
          interactive: !!f.interactive,
          detach: !!f.detach,
          tty: !!f.tty,
        }),
      );
    });
}

function attachCommand(setCode: SetCode): Command {
  return new Command("attach")
    .description("Attach to a running container's output and input")
    .option("--no-stdin", "do not attach stdin")
    .argument("<container>")
    .action(async (ref: string, f: { stdin: boolean }) => {
      const s = store();
      const c = s.find(ref);
      setCode(await attachContainer(s, c, f.stdin && c.host.interactive));
    });
}

/** "NAME:PATH" -> the container part, or undefined for a host path. */
function containerPath(arg: string): [string, string] | undefined {
  const m = /^([^/:.][^/:]*):(.*)$/.exec(arg);
  return m ? [m[1], m[2] || "/"] : undefined;
}

function cpCommand(setCode: SetCode): Command {
  return new Command("cp")
    .description("Copy files between a running container and the host")
    .argument("<src>", "CONTAINER:PATH or a host path")
    .argument("<dest>", "CONTAINER:PATH or a host path")
    .action(async (src: string, dest: string) => {
      const s = store();
      const from = containerPath(src), to = containerPath(dest);
      if (!from === !to) {
        throw new Error(
          "copying between containers, or on the host, is not supported: one of src and dest must be CONTAINER:PATH",
        );
      }
      if (from) await copyFromContainer(s, s.find(from[0]), from[1], dest);
      else await copyToContainer(s, s.find(to![0]), src, to![1]);
      setCode(0);
    });
}

function containerCommand(setCode: SetCode): Command {
  return new Command("container")
    .description("Manage containers")
    .addCommand(
      new Command("prune")
        .description("Remove all stopped containers")
        .option("-f, --force", "do not ask for confirmation")
        .action(async () => {
          const s = store();
          for (const c of s.list()) {
            const st = await reconcile(s, c.id);
            if (monitorAlive(st)) continue;
            await removeContainer(s, c, false);
            console.log(c.id);
          }
          setCode(0);
        }),
    );
}

/** Every lifecycle command, for the CLI's command list. */
export function containerCommands(setCode: SetCode): Command[] {
  return [
    createCommand,
    startCommand,
    stopCommand,
    killCommand,
    restartCommand,
    rmCommand,
    psCommand,
    logsCommand,
    inspectCommand,
    waitCommand,
    renameCommand,
    topCommand,
    execCommand,
    attachCommand,
    cpCommand,
    containerCommand,
  ].map((make) => make(setCode)).concat(
    freezeCommand(setCode, true),
    freezeCommand(setCode, false),
  );
}
