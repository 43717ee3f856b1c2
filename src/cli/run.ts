/**
 * `ptd run` and `create`: Docker's flags made into the engine's create
 * request (src/engine/create.ts), then one engine call each.
 */
import { parseLogOpts } from "../container/log_driver.ts";
import { parseMountFlags } from "../container/mounts.ts";
import { parseRestart } from "../container/restart.ts";
import type { HealthFlags } from "../container/health_config.ts";
import { parseShmSize, parseUlimit } from "../container/limits.ts";
import {
  checkSubidName,
  parseIpc,
  parseUserns,
} from "../container/namespaces.ts";
import type { Stream } from "../container/log.ts";
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
import { lazy } from "../runtime/lazy.ts";
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
import {
  CREATE_FLAGS,
  type CreateFlags,
  createFlagsHost,
  createFlagsRequest,
  INIT_CTR_FLAG,
} from "./create_flags.ts";

import { LIMIT_OPTIONS, type LimitFlags, limitsOf } from "./limits.ts";

interface RunFlags extends HealthFlags, LimitFlags, CreateFlags {
  oomScoreAdj?: string;
  cgroupParent?: string;
  cgroups?: string;
  cgroupns?: string;
  sdnotify?: string;
  rm?: boolean;
  rmi?: boolean;
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
  attach: string[];
  userns?: string;
  uidmap: string[];
  gidmap: string[];
  ipc?: string;
  tz?: string;
  timeout?: string;
  replace?: boolean;
  envHost?: boolean;
  hostuser: string[];
  ulimit: string[];
  shmSize?: string;
  detachKeys?: string;
  passwd: boolean;
  device: string[];
  preserveFds?: string;
  subuidname?: string;
  subgidname?: string;
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
  network: string[];
  net: string[];
  networkAlias: string[];
  pod?: string;
  ip?: string;
  ip6?: string;
  macAddress?: string;
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
  logDriver?: string;
  cidfile?: string;
}

/** --entrypoint: a JSON array of strings is the command line, else one word. */
function parseEntrypoint(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value === "") return [];
  if (value.startsWith("[")) {
    try {
      const list = JSON.parse(value);
      if (Array.isArray(list) && list.every((x) => typeof x === "string")) {
        return list;
      }
    } catch { /* not JSON: the word itself, as Podman takes it */ }
  }
  return [value];
}

/** -a/--attach: the output streams a foreground run relays; all when none. */
function parseAttach(items: string[]): Stream[] | undefined {
  for (const item of items) {
    if (!["stdin", "stdout", "stderr"].includes(item.toLowerCase())) {
      throw invalid(
        `invalid stream "${item}" for --attach - must be one of stdin, stdout, or stderr: invalid argument`,
      );
    }
  }
  if (items.length === 0) return undefined;
  return items.map((i) => i.toLowerCase())
    .filter((i): i is Stream => i !== "stdin");
}

/** An unsigned flag (--timeout, --preserve-fds) with Podman's error. */
function parseCount(value: string | undefined, flag: string) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw invalid(
      `invalid argument "${value}" for "${flag}" flag: strconv.ParseUint: parsing "${value}": invalid syntax`,
    );
  }
  return Number(value);
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

/** --security-opt values as the container's settings. */
async function securityOpts(items: string[]) {
  if (items.length === 0) return { noNewPrivileges: false };
  const { parseSecurityOpts } = await lazy<
    typeof import("../security/options.ts")
  >("src/security/options.ts");
  const o = parseSecurityOpts(items);
  return {
    noNewPrivileges: o.noNewPrivileges,
    seccompProfile: o.seccompProfile,
    ...(o.mask.length > 0 ? { mask: o.mask } : {}),
    ...(o.unmask.length > 0 ? { unmask: o.unmask } : {}),
    ...(items.length > 0 ? { securityOpt: items } : {}),
  };
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
  repeatable(
    "--security-opt <opt>",
    "security options (seccomp=unconfined|PROFILE.json, no-new-privileges, mask=, unmask=, label=, apparmor=)",
  ),
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
    flags: "--read-only-tmpfs [=bool]",
    description: "with --read-only, tmpfs on /tmp, /var/tmp and /run",
    parse: boolArg("--read-only-tmpfs"),
    default: true,
  },
  repeatable("-v, --volume <spec>", "bind or volume mount: [SRC:]DST[:ro]"),
  repeatable("--mount <spec>", "mount: type=bind|volume|tmpfs,src=,dst=,ro"),
  repeatable("--tmpfs <spec>", "tmpfs mount: DST[:size=,mode=]"),
  repeatable(
    "--network <mode>",
    "network: slirp4netns[:allow_host_loopback=true] (default), pasta, none, host, or NAME[:alias=A,ip=IP] (repeatable)",
  ),
  repeatable("--net <mode>", "the same as --network"),
  repeatable("--network-alias <alias>", "another DNS name on the network"),
  { flags: "--pod <pod>", description: "run in a pod (new:NAME makes one)" },
  { flags: "--ip <address>", description: "the IPv4 address on the network" },
  { flags: "--ip6 <address>", description: "the IPv6 address on the network" },
  {
    flags: "--mac-address <mac>",
    description: "the MAC address on the network",
  },
  {
    flags: "--ipc <mode>",
    description:
      "IPC namespace: shareable (default), private, host, none, container:NAME",
  },
  {
    flags: "--userns <mode>",
    description:
      "user namespace: host (default), keep-id[:uid=N,gid=N], nomap, auto[:size=N], ns:PATH",
  },
  repeatable(
    "--uidmap <map>",
    "UID map CONTAINER:HOST:SIZE, HOST counted in your own ids (0 is you)",
  ),
  repeatable("--gidmap <map>", "GID map CONTAINER:HOST:SIZE"),
  {
    flags: "--subuidname <name>",
    description: "UID map from a name's /etc/subuid ranges",
  },
  {
    flags: "--subgidname <name>",
    description: "GID map from a name's /etc/subgid ranges",
  },
  repeatable("--ulimit <limit>", "resource limit: NAME=SOFT[:HARD]"),
  repeatable(
    "--device <dev>",
    "add a host device: HOST[:CONTAINER][:MODE], bound from the host",
  ),
  { flags: "--shm-size <size>", description: "size of /dev/shm (64m)" },
  {
    flags: "--tz <zone>",
    description: "time zone of the container, or local for the host's",
  },
  {
    flags: "--timeout <seconds>",
    description: "kill the container after this many seconds",
  },
  {
    flags: "--env-host",
    description: "use the host's environment in the container",
  },
  repeatable("--hostuser <name>", "add a host user to /etc/passwd"),
  {
    flags: "--passwd [=bool]",
    description: "add an /etc/passwd entry for a numeric --user",
    parse: boolArg("--passwd"),
    default: true,
  },
  {
    flags: "--replace",
    description: "replace a container of the same name",
  },
  {
    flags: "--detach-keys <keys>",
    description: "key sequence that detaches from the container",
  },
  repeatable("-a, --attach <stream>", "attach to STDIN, STDOUT or STDERR"),
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
  {
    flags: "--log-driver <driver>",
    description:
      "logging driver: k8s-file (default), json-file, none, passthrough",
  },
  repeatable(
    "--log-opt <opt>",
    "logging option: max-size=SIZE, max-file=N, path=FILE, tag=TAG",
  ),
  {
    flags: "--pull <policy>",
    description: "pull the image: always, missing, never",
    default: "missing",
  },
  {
    flags: "--authfile <path>",
    description: "path of the authentication file",
  },
  {
    flags: "--health-cmd <command>",
    description:
      'health check: a shell line, a JSON array, or "NONE" to disable the image\'s',
  },
  {
    flags: "--health-interval <interval>",
    description: 'time between checks ("disable": only healthcheck run)',
  },
  {
    flags: "--health-retries <n>",
    description: "failures in a row that make the container unhealthy",
  },
  {
    flags: "--health-start-period <period>",
    description: "time to start up, during which failures do not count",
  },
  {
    flags: "--health-timeout <timeout>",
    description: "time a check may take before it counts as failed",
  },
  {
    flags: "--health-on-failure <action>",
    description: "on turning unhealthy: none, kill, restart or stop",
  },
  { flags: "--no-healthcheck", description: "disable any health check" },
  ...LIMIT_OPTIONS,
  {
    flags: "--oom-score-adj <n>",
    description: "the host's OOM preference for it (-1000 to 1000)",
  },
  {
    flags: "--cgroup-parent <path>",
    description: "parent cgroup, under your delegated subtree",
  },
  {
    flags: "--cgroups <mode>",
    description: "cgroup mode: enabled (default), disabled, no-conmon, split",
  },
  {
    flags: "--cgroupns <mode>",
    description: "cgroup namespace: private, host",
  },
  {
    flags: "--sdnotify <mode>",
    description:
      "how a Type=notify unit hears it is ready: container (default), conmon, ignore",
  },
  ...CREATE_FLAGS,
];

/** --oom-score-adj: an integer the kernel takes (-1000 to 1000). */
function parseOomScoreAdj(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Math.abs(Number(value)) > 1000) {
    throw invalid(
      `invalid value for --oom-score-adj: ${value}: it must be an integer from -1000 to 1000`,
    );
  }
  return Number(value);
}

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
  }, {
    flags: "--preserve-fds <n>",
    description: "pass descriptors 3 to 3+N-1 on to the command",
  }, {
    flags: "--rmi",
    description: "remove the image after the container exits (implies --rm)",
  }, {
    flags: "--sig-proxy [=bool]",
    description: "accepted: a foreground run always relays signals",
    parse: boolArg("--sig-proxy"),
  }],
  async (image: string, command: string[], f: RunFlags) => {
    trace("cli-parsed");
    if (f.tty && f.interactive && !f.detach && !Deno.stdin.isTerminal()) {
      // Podman's warning; it runs all the same (input piped into a shell).
      console.error(
        "WARN: The input device is not a TTY. The --tty and --interactive flags might not work properly",
      );
    }
    const preserveFds = parseCount(f.preserveFds, "--preserve-fds");
    const req = await createRequest(image, command, f);
    trace("cli-request");
    let id = "";
    const code = await runNewContainer(
      userEngine(),
      req,
      f.detach
        ? { kind: "detach", preserveFds }
        : f.tty
        ? { kind: "attach", stdin: !!f.interactive }
        : {
          kind: "foreground",
          streams: parseAttach(f.attach),
          preserveFds,
        },
      {
        onProgress: pullReporter(!!f.quiet),
        replaced: (name) => console.log(name),
        created: (c) => {
          trace("cli-created");
          if (f.cidfile) writeCidFile(f.cidfile, c.id);
          id = c.id;
          // Podman: -a that attaches no output stream (-a stdin) says which
          // container it runs instead, then waits for it as usual.
          if (!f.detach && parseAttach(f.attach)?.length === 0) {
            console.log(c.id);
          }
        },
      },
    );
    if (f.detach) console.log(id);
    else if (f.rmi && !f.rootfs) await removeImageAfter(image);
    return code;
  },
);

/** `ptd create`. */
const createCommandSpec = createSpec(
  "create",
  "Create a new container without starting it",
  [RM, ...CREATE_OPTIONS, INIT_CTR_FLAG],
  async (image: string, command: string[], f: RunFlags) => {
    const c = await createContainer(
      userEngine(),
      await createRequest(image, command, f),
      { onProgress: pullReporter(!!f.quiet), replaced: (n) => console.log(n) },
    );
    if (f.cidfile) writeCidFile(f.cidfile, c.id);
    console.log(c.id);
  },
);

/** The --health-* flags as settings; none given, no module is loaded. */
async function healthSettings(f: HealthFlags) {
  const given = f.healthcheck === false || [
    f.healthCmd,
    f.healthInterval,
    f.healthRetries,
    f.healthStartPeriod,
    f.healthTimeout,
    f.healthOnFailure,
  ].some((v) => v !== undefined);
  if (!given) return {};
  const { parseHealthFlags } = await lazy<
    typeof import("../container/health_config.ts")
  >("src/container/health_config.ts");
  return parseHealthFlags(f);
}

/** --cgroups and --cgroupns, parsed by the cgroup code when given. */
async function cgroupSettings(f: RunFlags) {
  if (f.cgroups === undefined && f.cgroupns === undefined) return {};
  const { parseCgroupns, parseCgroupsMode } = await lazy<
    typeof import("../cgroup/policy.ts")
  >("src/cgroup/policy.ts");
  return {
    cgroups: f.cgroups === undefined ? undefined : parseCgroupsMode(f.cgroups),
    cgroupns: f.cgroupns === undefined ? undefined : parseCgroupns(f.cgroupns),
  };
}

/** --sdnotify, parsed by the notify code when given. */
async function sdnotifySetting(value: string | undefined) {
  if (value === undefined) return undefined;
  const { parseSdNotify } = await lazy<
    typeof import("../container/sdnotify.ts")
  >("src/container/sdnotify.ts");
  return parseSdNotify(value);
}

/** --device flags, parsed by the device code when given. */
async function deviceSettings(items: string[]) {
  if (items.length === 0) return undefined;
  const { parseDevice } = await lazy<
    typeof import("../container/devices.ts")
  >("src/container/devices.ts");
  return items.flatMap(parseDevice);
}

/** The engine's request for what `run`/`create` flags describe. */
async function createRequest(
  image: string,
  command: string[],
  f: RunFlags,
): Promise<CreateRequest> {
  if (f.subuidname !== undefined) checkSubidName(f.subuidname, "/etc/subuid");
  if (f.subgidname !== undefined) checkSubidName(f.subgidname, "/etc/subgid");
  return {
    image,
    rootfs: f.rootfs,
    pull: parsePullPolicy(f.pull),
    authFile: f.authfile,
    pod: f.pod,
    name: f.name,
    command,
    entrypoint: parseEntrypoint(f.entrypoint),
    env: mergeEnv(parseEnv(f.env), ...f.envFile.map(readEnvFile)),
    envHost: !!f.envHost,
    hostUsers: f.hostuser,
    replace: !!f.replace,
    workdir: f.workdir,
    user: f.user,
    hostname: f.hostname,
    ...createFlagsRequest(f, parseLabels(f.label)),
    mounts: parseMountFlags(f),
    readOnlyTmpfs: f.readOnlyTmpfs,
    publishAll: !!f.publishAll,
    createCommand: [...Deno.args],
    host: {
      autoRemove: !!f.rm || !!f.rmi,
      interactive: !!f.interactive,
      tty: !!f.tty,
      capAdd: f.capAdd,
      capDrop: f.capDrop,
      privileged: !!f.privileged,
      ...await securityOpts(f.securityOpt),
      readOnly: !!f.readOnly,
      ...networkSettings([...f.network, ...f.net], {
        aliases: f.networkAlias,
        ip: f.ip,
        ip6: f.ip6,
        mac: f.macAddress,
      }),
      ipc: f.ipc === undefined ? undefined : parseIpc(f.ipc),
      userns: f.userns === undefined && f.uidmap.length + f.gidmap.length === 0
        ? undefined
        : parseUserns(f.userns ?? "", f.uidmap, f.gidmap),
      ulimits: f.ulimit.length > 0 ? f.ulimit.map(parseUlimit) : undefined,
      shmSize: f.shmSize === undefined ? undefined : parseShmSize(f.shmSize),
      tz: f.tz,
      timeout: parseCount(f.timeout, "--timeout"),
      passwd: f.passwd,
      detachKeys: f.detachKeys,
      devices: await deviceSettings(f.device),
      ports: f.publish.flatMap(parsePublish),
      dns: { servers: f.dns, search: f.dnsSearch, options: f.dnsOption },
      addHosts: f.addHost,
      groupAdd: f.groupAdd,
      restartPolicy: parseRestart(f.restart),
      init: !!f.init,
      stopSignal: f.stopSignal,
      stopTimeout: Number(f.stopTimeout),
      logDriver: f.logDriver,
      ...parseLogOpts(f.logOpt),
      ...await healthSettings(f),
      resources: await limitsOf(f),
      oomScoreAdj: parseOomScoreAdj(f.oomScoreAdj),
      cgroupParent: f.cgroupParent,
      ...await cgroupSettings(f),
      sdnotify: await sdnotifySetting(f.sdnotify),
      ...await createFlagsHost(f),
    },
  };
}

/**
 * --rmi: the image goes after the run; failing that, Podman only warns.
 * The image code is loaded only then: a run does not need it.
 */
async function removeImageAfter(image: string) {
  const { removeImages } = await lazy<typeof import("../engine/images.ts")>(
    "src/engine/images.ts",
  );
  try {
    await removeImages(userEngine(), [image]);
  } catch (e) {
    console.error(`Failed removing image ${image}: ${(e as Error).message}`);
  }
}

/** `run` and `create`. */
export const specs: CommandSpec[] = [runSpec, createCommandSpec];
