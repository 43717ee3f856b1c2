/**
 * `ptd run` and `create`: Docker's flags made into the engine's create
 * request (src/engine/create.ts), then one engine call each.
 */
import { parseMountFlags } from "../container/mounts.ts";
import { parseRestart } from "../container/restart.ts";
import { userEngine } from "../engine/engine.ts";
import {
  createContainer,
  type CreateRequest,
  networkSettings,
  runNewContainer,
} from "../engine/create.ts";
import { parsePullPolicy } from "../image/resolve.ts";
import { parsePublish } from "../network/ports.ts";
import { conflict, invalid } from "../runtime/errors.ts";
import { trace } from "../runtime/trace.ts";
import { pullReporter } from "./progress.ts";
import {
  boolArg,
  mergeEnv,
  parseEnv,
  parseLabels,
  PROCESS_OPTIONS,
  readEnvFile,
  repeatable,
} from "./options.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

interface RunFlags {
  rm?: boolean;
  init?: boolean;
  rootfs?: boolean;
  pull: string;
  authfile?: string;
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
    if (!m) throw invalid(`unsupported --log-opt ${JSON.stringify(item)}`);
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
      throw conflict(`container id file ${path} exists: remove it first`);
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
      throw invalid(`unsupported --security-opt ${JSON.stringify(o)}`);
    }
  }
  return { noNewPrivileges };
}

/** The options that `run` and `create` share. */
const CREATE_OPTIONS: OptionSpec[] = [
  {
    flags: "--rootfs",
    description:
      "the first argument is a root file system directory, not an image",
  },
  PROCESS_OPTIONS.interactive,
  PROCESS_OPTIONS.tty,
  { flags: "--name <name>", description: "assign a name to the container" },
  PROCESS_OPTIONS.env,
  PROCESS_OPTIONS.envFile,
  PROCESS_OPTIONS.workdir,
  PROCESS_OPTIONS.user,
  { flags: "-h, --hostname <name>", description: "container hostname" },
  {
    flags: "--entrypoint <cmd>",
    description: "override the image's entrypoint",
  },
  repeatable("-l, --label <label>", "set metadata (key=value)"),
  repeatable("--cap-add <cap>", "add a Linux capability"),
  repeatable("--cap-drop <cap>", "drop a Linux capability"),
  {
    flags: "--privileged",
    description: "give extended privileges to the container",
  },
  repeatable("--security-opt <opt>", "security options (no-new-privileges)"),
  {
    flags: "--read-only",
    description: "mount the container's root file system read-only",
  },
  {
    flags: "--init",
    description:
      "run an init (catatonit) as PID 1 that reaps and forwards signals",
  },
  {
    flags: "--read-only-tmpfs [bool]",
    description: "with --read-only, tmpfs on /tmp, /var/tmp and /run",
    parse: boolArg("--read-only-tmpfs"),
    default: true,
  },
  repeatable("-v, --volume <spec>", "bind or volume mount: [SRC:]DST[:ro]"),
  repeatable("--mount <spec>", "mount: type=bind|volume|tmpfs,src=,dst=,ro"),
  repeatable("--tmpfs <spec>", "tmpfs mount: DST[:size=,mode=]"),
  {
    flags: "--network <mode>",
    description:
      "network: slirp4netns[:allow_host_loopback=true] (default), pasta, none, host",
    default: "private",
  },
  repeatable(
    "-p, --publish <spec>",
    "publish a port: [[IP:]HOST:]CTR[/tcp|/udp], ranges A-B",
  ),
  {
    flags: "-P, --publish-all",
    description: "publish the image's exposed ports",
  },
  repeatable("--add-host <host:ip>", "add a line to /etc/hosts"),
  repeatable("--dns <ip>", "DNS server for /etc/resolv.conf"),
  repeatable("--dns-search <domain>", "DNS search domain"),
  repeatable("--dns-option <opt>", "DNS resolver option"),
  repeatable("--group-add <group>", "additional groups to join"),
  {
    flags: "--restart <policy>",
    description: "restart policy: no, on-failure[:N], always, unless-stopped",
    default: "no",
  },
  {
    flags: "--stop-signal <signal>",
    description: "signal that stops the container",
    default: "SIGTERM",
  },
  {
    flags: "--stop-timeout <seconds>",
    description: "seconds to wait before SIGKILL",
    default: "10",
  },
  {
    flags: "--cidfile <file>",
    description: "write the container id to a file",
  },
  repeatable("--log-opt <opt>", "logging option: max-size=SIZE"),
  {
    flags: "--pull <policy>",
    description: "pull the image: always, missing, never",
    default: "missing",
  },
  {
    flags: "--authfile <path>",
    description: "path of the authentication file",
  },
];

const RM: OptionSpec = {
  flags: "--rm",
  description: "remove the container when it exits",
};

/** `run` and `create` take IMAGE [COMMAND...]; options after IMAGE are the command's. */
function createSpec(
  name: string,
  description: string,
  options: OptionSpec[],
  action: CommandSpec["action"],
): CommandSpec {
  return {
    name,
    description,
    options,
    args: [
      ["<image>", "image, or root file system directory with --rootfs"],
      ["[command...]", "command and arguments"],
    ],
    passThrough: true,
    help: "--help",
    action,
  };
}

/** `ptd run`. */
const runSpec = createSpec(
  "run",
  "Run a command in a new container",
  [RM, ...CREATE_OPTIONS, {
    flags: "-d, --detach",
    description: "run in the background and print the id",
  }],
  async (image: string, command: string[], f: RunFlags) => {
    trace("cli-parsed");
    let id = "";
    const code = await runNewContainer(
      userEngine(),
      createRequest(image, command, f),
      f.detach
        ? { kind: "detach" }
        : f.tty
        ? { kind: "attach", stdin: !!f.interactive }
        : { kind: "foreground" },
      {
        onProgress: pullReporter(false),
        created: (c) => {
          trace("cli-created");
          if (f.cidfile) writeCidFile(f.cidfile, c.id);
          id = c.id;
        },
      },
    );
    if (f.detach) console.log(id);
    return code;
  },
);

/** `ptd create`. */
const createCommandSpec = createSpec(
  "create",
  "Create a new container without starting it",
  [RM, ...CREATE_OPTIONS],
  async (image: string, command: string[], f: RunFlags) => {
    const c = await createContainer(
      userEngine(),
      createRequest(image, command, f),
      pullReporter(false),
    );
    if (f.cidfile) writeCidFile(f.cidfile, c.id);
    console.log(c.id);
  },
);

/** The engine's request for what `run`/`create` flags describe. */
function createRequest(
  image: string,
  command: string[],
  f: RunFlags,
): CreateRequest {
  return {
    image,
    rootfs: f.rootfs,
    pull: parsePullPolicy(f.pull),
    authFile: f.authfile,
    name: f.name,
    command,
    entrypoint: f.entrypoint === undefined
      ? undefined
      : f.entrypoint === ""
      ? []
      : [f.entrypoint],
    env: mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile)),
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
      ...networkSettings(f.network),
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
  };
}

/** `run` and `create`. */
export const specs: CommandSpec[] = [runSpec, createCommandSpec];
