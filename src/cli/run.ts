/** `ptd run`: Docker's flags, mapped onto createContainer + a foreground run. */
import { Command } from "commander";
import { runForeground } from "../container/foreground.ts";
import { createContainer, rootfsSource } from "../container/create.ts";
import { ContainerStore } from "../container/store.ts";
import { storePaths } from "../storage/paths.ts";
import { parsePullPolicy } from "../image/resolve.ts";
import { imageRoot } from "./pull.ts";
import type { ContainerConfig } from "../container/config.ts";
import { runAttached, startContainer } from "../container/lifecycle.ts";
import { parseRestart } from "../container/restart.ts";
import { parseMountFlags } from "../container/mounts.ts";
import { removeStored } from "../container/volumes.ts";
import { trace } from "../runtime/trace.ts";
import { parseNetworkMode } from "../network/mode.ts";
import { parsePublish, portInUse } from "../network/ports.ts";
import {
  boolArg,
  collect,
  mergeEnv,
  parseEnv,
  parseLabels,
  readEnvFile,
} from "./options.ts";

interface RunFlags {
  rm?: boolean;
  init?: boolean;
  rootfs?: boolean;
  pull: string;
  interactive?: boolean;
  tty?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  label: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  readOnly?: boolean;
  readOnlyTmpfs: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  network?: string;
  publish: string[];
  publishAll?: boolean;
  addHost: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  groupAdd: string[];
  detach?: boolean;
  restart: string;
  stopSignal: string;
  stopTimeout: string;
  logOpt: string[];
  cidfile?: string;
}

/** --log-opt values; only max-size (k, m, g suffixes) is supported. */
function parseLogOpts(items: string[]): { logMaxSize?: number } {
  const out: { logMaxSize?: number } = {};
  for (const item of items) {
    const m = /^max-size=(\d+)([kmg]?)b?$/i.exec(item);
    if (!m) throw new Error(`unsupported --log-opt ${JSON.stringify(item)}`);
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
    out.logMaxSize = Number(m[1]) *
      unit[m[2].toLowerCase() as keyof typeof unit];
  }
  return out;
}

function writeCidFile(path: string, id: string) {
  try {
    Deno.writeTextFileSync(path, id, { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new Error(`container id file ${path} exists: remove it first`);
    }
    throw e;
  }
}

function securityOpts(items: string[]): { noNewPrivileges: boolean } {
  let noNewPrivileges = false;
  for (const o of items) {
    if (
      o === "no-new-privileges" || o === "no-new-privileges=true" ||
      o === "no-new-privileges:true"
    ) {
      noNewPrivileges = true;
    } else if (
      o !== "no-new-privileges=false" && o !== "no-new-privileges:false"
    ) {
      throw new Error(`unsupported --security-opt ${JSON.stringify(o)}`);
    }
  }
  return { noNewPrivileges };
}

/** Adds the options that `run` and `create` share. */
export function addCreateOptions(cmd: Command): Command {
  return cmd
    .helpOption("--help", "display help for command")
    .option(
      "--rootfs",
      "the first argument is a root file system directory, not an image",
    )
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "allocate a pseudo-TTY")
    .option("--name <name>", "assign a name to the container")
    .option("-e, --env <env>", "set environment variables", collect, [])
    .option(
      "--env-file <file>",
      "read environment variables from a file",
      collect,
      [],
    )
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user>", "user[:group] to run as")
    .option("-h, --hostname <name>", "container hostname")
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .option("--cap-add <cap>", "add a Linux capability", collect, [])
    .option("--cap-drop <cap>", "drop a Linux capability", collect, [])
    .option("--privileged", "give extended privileges to the container")
    .option(
      "--security-opt <opt>",
      "security options (no-new-privileges)",
      collect,
      [],
    )
    .option("--read-only", "mount the container's root file system read-only")
    .option(
      "--init",
      "run an init (catatonit) as PID 1 that reaps and forwards signals",
    )
    .option(
      "--read-only-tmpfs [bool]",
      "with --read-only, tmpfs on /tmp, /var/tmp and /run",
      boolArg("--read-only-tmpfs"),
      true,
    )
    .option(
      "-v, --volume <spec>",
      "bind or volume mount: [SRC:]DST[:ro]",
      collect,
      [],
    )
    .option(
      "--mount <spec>",
      "mount: type=bind|volume|tmpfs,src=,dst=,ro",
      collect,
      [],
    )
    .option("--tmpfs <spec>", "tmpfs mount: DST[:size=,mode=]", collect, [])
    .option(
      "--network <mode>",
      "network: slirp4netns[:allow_host_loopback=true] (default), pasta, none, host",
      "private",
    )
    .option(
      "-p, --publish <spec>",
      "publish a port: [[IP:]HOST:]CTR[/tcp|/udp], ranges A-B",
      collect,
      [],
    )
    .option("-P, --publish-all", "publish the image's exposed ports")
    .option("--add-host <host:ip>", "add a line to /etc/hosts", collect, [])
    .option("--dns <ip>", "DNS server for /etc/resolv.conf", collect, [])
    .option("--dns-search <domain>", "DNS search domain", collect, [])
    .option("--dns-option <opt>", "DNS resolver option", collect, [])
    .option("--group-add <group>", "additional groups to join", collect, [])
    .option(
      "--restart <policy>",
      "restart policy: no, on-failure[:N], always, unless-stopped",
      "no",
    )
    .option(
      "--stop-signal <signal>",
      "signal that stops the container",
      "SIGTERM",
    )
    .option("--stop-timeout <seconds>", "seconds to wait before SIGKILL", "10")
    .option("--cidfile <file>", "write the container id to a file")
    .option("--log-opt <opt>", "logging option: max-size=SIZE", collect, [])
    .option(
      "--pull <policy>",
      "pull the image: always, missing, never",
      "missing",
    )
    .argument("<image>", "image, or root file system directory with --rootfs")
    .argument("[command...]", "command and arguments")
    .passThroughOptions();
}

/** The `run` command. */
export function runCommand(setCode: (code: number) => void): Command {
  return addCreateOptions(
    new Command("run")
      .description("Run a command in a new container")
      .option("--rm", "remove the container when it exits"),
  ).option("-d, --detach", "run in the background and print the id")
    .action(async (image: string, command: string[], f: RunFlags) => {
      trace("cli-parsed");
      const { store, c } = await createFromFlags(image, command, f);
      trace("cli-created");
      try {
        if (f.tty && !f.detach) {
          return setCode(await runAttached(store, c, !!f.interactive));
        }
        if (!f.detach) return setCode(await runForeground(store, c));
        await startContainer(store, c);
      } catch (e) {
        // Taken between create and start: leave nothing behind, like a
        // port found taken at create time.
        if (portInUse(e)) await removeStored(store, c, true);
        throw e;
      }
      console.log(c.id);
    });
}

/** Creates the container that `run`/`create` flags describe. */
export async function createFromFlags(
  image: string,
  command: string[],
  f: RunFlags,
): Promise<{ store: ContainerStore; c: ContainerConfig }> {
  parseNetworkMode(f.network ?? "private"); // fail before any pull
  const root = f.rootfs
    ? rootfsSource(image)
    : await imageRoot(image, parsePullPolicy(f.pull));
  const store = new ContainerStore(storePaths());
  const env = mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile));
  const c = await createContainer(store, root, {
    name: f.name,
    command,
    entrypoint: f.entrypoint === undefined
      ? undefined
      : f.entrypoint === ""
      ? []
      : [f.entrypoint],
    env,
    workdir: f.workdir,
    user: f.user,
    hostname: f.hostname,
    labels: parseLabels(f.label),
    mounts: parseMountFlags(f),
    readOnlyTmpfs: f.readOnlyTmpfs,
    publishAll: !!f.publishAll,
    host: {
      autoRemove: !!f.rm,
      interactive: !!f.interactive,
      tty: !!f.tty,
      capAdd: f.capAdd,
      capDrop: f.capDrop,
      privileged: !!f.privileged,
      ...securityOpts(f.securityOpt),
      readOnly: !!f.readOnly,
      network: f.network ?? "private",
      ports: f.publish.flatMap(parsePublish),
      dns: { servers: f.dns, search: f.dnsSearch, options: f.dnsOption },
      addHosts: f.addHost,
      groupAdd: f.groupAdd,
      restartPolicy: parseRestart(f.restart),
      init: !!f.init,
      stopSignal: f.stopSignal,
      stopTimeout: Number(f.stopTimeout),
      ...parseLogOpts(f.logOpt),
    },
  });
  if (f.cidfile) writeCidFile(f.cidfile, c.id);
  return { store, c };
}
