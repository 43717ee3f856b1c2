/**
 * The commander program: every command, for help, errors and all the
 * commands that are not parsed by quickParse. Loaded only when needed.
 */
import { Command } from "commander";
export { CommanderError } from "commander";
import { PtdError } from "../runtime/errors.ts";
import { PTD_VERSION } from "../engine/system.ts";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import { buildCommand, commitCommand } from "./build.ts";
import { diffCommand, exportCommand } from "./changes.ts";
import { containerPruneSpec, specs as lifecycle } from "./containers.ts";
import { doctorCommand } from "./doctor.ts";
import { eventsSpec } from "./events.ts";
import { healthcheckRunSpec } from "./healthcheck.ts";
import { applyGlobals, GLOBAL_OPTIONS } from "./globals.ts";
import { imageCommands } from "./images.ts";
import { inspectSpec, specs as inspecting } from "./inspect.ts";
import { portCommand } from "./port.ts";
import { generateCommand } from "./generate.ts";
import { kubeCommand, playCommand } from "./kube.ts";
import { statsCommand } from "./stats.ts";
import { updateCommand } from "./update.ts";
import {
  loginCommand,
  logoutCommand,
  pullCommand,
  pushCommand,
  searchCommand,
} from "./pull.ts";
import { specs as listing } from "./listing.ts";
import { specs as creating } from "./run.ts";
import {
  bindArgs,
  type CommandSpec,
  inlineBools,
  optionalArgs,
} from "./spec.ts";
import { existsSpec, systemCommands } from "./system.ts";
import { podmanParsing } from "./cobra.ts";
import { volumeCommand } from "./volume.ts";
import { networkCommand } from "./network.ts";
import { podCommand } from "./pod.ts";
import { secretCommand } from "./secret.ts";

/** ptd's version, as `ptd --version` prints it. */
export const VERSION = PTD_VERSION;

/**
 * Podman's one-line descriptions of the commands ptd has, in its words, for
 * `ptd --help` to list them as `podman --help` does.
 */
const PODMAN_HELP: Record<string, string> = {
  attach: "Attach to a running container",
  build: "Build an image using instructions from Containerfiles",
  buildx: "Build images with BuildKit's command line (build only)",
  commit: "Create new image based on the changed container",
  container: "Manage containers",
  cp: "Copy files/folders between a container and the local filesystem",
  create: "Create but do not start a container",
  events: "Show podman events",
  exec: "Run a process in a running container",
  healthcheck: "Manage health checks on containers",
  generate: "Generate structured data based on containers, pods or volumes",
  history: "Show history of a specified image",
  image: "Manage images",
  images: "List images in local storage",
  import: "Import a tarball to create a filesystem image",
  info: "Display podman system information",
  inspect: "Display the configuration of object denoted by ID",
  kill: "Kill one or more running containers with a specific signal",
  load: "Load image(s) from a tar archive",
  login: "Login to a container registry",
  logout: "Logout of a container registry",
  logs: "Fetch the logs of one or more containers",
  pause: "Pause all the processes in one or more containers",
  port: "List port mappings or a specific mapping for the container",
  stats: "Display a live stream of container resource usage statistics",
  ps: "List containers",
  pull: "Pull an image from a registry",
  push: "Push an image to a specified destination",
  rename: "Rename an existing container",
  restart: "Restart one or more containers",
  rm: "Remove one or more containers",
  rmi: "Removes one or more images from local storage",
  run: "Run a command in a new container",
  save: "Save image(s) to an archive",
  start: "Start one or more containers",
  stop: "Stop one or more containers",
  system: "Manage podman",
  tag: "Add an additional name to a local image",
  top: "Display the running processes of a container",
  unpause: "Unpause the processes in one or more containers",
  update: "update an existing container",
  untag: "Remove a name from a local image",
  version: "Display the Podman version information",
  volume: "Manage volumes",
  network: "Manage networks",
  pod: "Manage pods",
  secret: "Manage secrets",
  wait: "Block on one or more containers",
  export: "Export container's filesystem contents as a tar archive",
  search: "Search registry for image",
};

/**
 * Podman's commands ptd does not have: each is refused in one line with
 * exit 125, `--help` included, rather than passing for an unknown command.
 */
const MISSING = [
  "auto-update",
  "init",
  "machine",
  "manifest",
  "mount",
  "unmount",
  "unshare",
  ...[
    "checkpoint",
    "cleanup",
    "clone",
    "init",
    "mount",
    "restore",
    "runlabel",
    "unmount",
  ].map((v) => `container ${v}`),
  ...["mount", "scp", "sign", "tree", "trust", "unmount"].map((v) =>
    `image ${v}`
  ),
  ...["export", "import", "mount", "reload", "unmount"].map((v) =>
    `volume ${v}`
  ),
  "system connection",
  "system migrate",
  "system renumber",
  "generate spec",
  "pod clone",
  "pod stats",
];

function missingCommand(path: string): Command {
  return new Command(path.split(" ").at(-1)!)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .action(() => {
      throw new PtdError("invalid", `ptd does not implement \`${path}\``);
    });
}

/**
 * The `container` group: Podman's `container VERB` spellings of the
 * container commands, built from the same specs as the top-level ones.
 */
function containerGroup(set: (code: number) => void): Command {
  const group = new Command("container").description("Manage containers")
    .enablePositionalOptions();
  const ps = listing.find((s) => s.name === "ps")!;
  for (
    const spec of [
      ...creating,
      ...lifecycle,
      containerPruneSpec,
      inspectSpec("inspect", "container"),
      existsSpec("container"),
    ]
  ) group.addCommand(toCommand(spec, set));
  group.addCommand(toCommand(ps, set).name("ls").aliases(["list", "ps"]));
  group.addCommand(portCommand());
  group.addCommand(diffCommand("container"));
  group.addCommand(exportCommand());
  group.addCommand(commitCommand());
  group.addCommand(statsCommand());
  group.addCommand(updateCommand());
  return group;
}

/**
 * The arguments commander is told: for a command --latest may name, all
 * optional, and a hook that asks for them as declared when it is not given.
 */
function latestArgs(spec: CommandSpec): [string, string?][] {
  return spec.latest ? optionalArgs(spec.args) : spec.args;
}

/** A commander command built from a spec; its exit code goes to `setCode`. */
export function toCommand(
  spec: CommandSpec,
  setCode: (code: number) => void,
): Command {
  const cmd = new Command(spec.name).description(spec.description);
  if (spec.help) cmd.helpOption(spec.help, "display help for command");
  for (const o of spec.options) {
    if (o.parse) {
      const parse = o.parse as (value: string, previous: unknown) => unknown;
      cmd.option(o.flags, o.description, parse, o.default);
    } else cmd.option(o.flags, o.description, o.default as string);
  }
  for (const [syntax, description] of latestArgs(spec)) {
    cmd.argument(syntax, description);
  }
  if (spec.passThrough) cmd.passThroughOptions();
  if (spec.latest) {
    cmd.hook("preAction", (c) => {
      if (!c.opts().latest && !bindArgs(spec.args, c.args)) {
        c.error("missing argument", { code: "commander.missingArgument" });
      }
    });
  }
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv) => parseOptions(inlineBools(spec, argv));
  // commander passes the Command itself last; actions take args and options.
  return cmd.action(async (...args: unknown[]) =>
    setCode((await spec.action(...args.slice(0, -1))) ?? 0)
  );
}

/** Builds the command tree; each action stores its exit code in `result`. */
export function program(result: { code: number }): Command {
  const p = new Command("ptd")
    .description("Manage pods, containers and images")
    .version(`ptd version ${VERSION}`, "-v, --version")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .configureHelp({ sortSubcommands: true })
    .helpCommand("help [command]", "Help about any command");
  for (const o of GLOBAL_OPTIONS) p.option(o.flags, o.description);
  p.hook("preAction", (root) => applyGlobals(root.opts()));
  const set = (code: number) => (result.code = code);
  const images = imageCommands(set);
  const imageGroup = images.find((c) => c.name() === "image")!;
  for (
    const c of [
      loadCommand(),
      saveCommand(),
      importCommand(),
      toCommand(existsSpec("image"), set),
      buildCommand(),
      diffCommand("image"),
      searchCommand(),
    ]
  ) imageGroup.addCommand(c);
  const health = new Command("healthcheck").addCommand(
    toCommand(healthcheckRunSpec, set),
  );
  const volumes = volumeCommand(set);
  volumes.addCommand(toCommand(existsSpec("volume"), set));
  for (
    const cmd of [
      ...[...creating, ...lifecycle, ...listing, ...inspecting].map((s) =>
        toCommand(s, set)
      ),
      doctorCommand(set),
      toCommand(eventsSpec, set),
      health,
      containerGroup(set),
      ...images,
      ...systemCommands(set),
      pullCommand(set),
      pushCommand(set),
      loginCommand(set),
      logoutCommand(set),
      searchCommand(),
      saveCommand(),
      loadCommand(),
      importCommand(),
      volumes,
      networkCommand(set),
      podCommand(set),
      secretCommand(set),
      diffCommand(),
      exportCommand(),
      portCommand(),
      buildCommand(),
      new Command("buildx").description("Build images").addCommand(
        buildCommand(),
      ),
      commitCommand(),
      statsCommand(),
      updateCommand(),
      generateCommand(),
      kubeCommand(),
      playCommand(),
    ]
  ) {
    const help = PODMAN_HELP[cmd.name()];
    if (help) cmd.description(help);
    // addCommand does not pass these on; every command must throw, not exit.
    p.addCommand(cmd.copyInheritedSettings(p));
    for (const sub of cmd.commands) sub.copyInheritedSettings(cmd);
  }
  for (const path of MISSING) {
    const group = path.includes(" ")
      ? p.commands.find((c) => c.name() === path.split(" ")[0])!
      : p;
    // After copyInheritedSettings, which would give it --help back.
    const cmd = missingCommand(path).copyInheritedSettings(group)
      .helpOption(false);
    group.addCommand(cmd, { hidden: true });
  }
  podmanParsing(p);
  return p;
}
