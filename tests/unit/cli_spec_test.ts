import { assert, assertEquals } from "../assert.ts";
import { specs as lifecycle } from "../../src/cli/containers.ts";
import { specs as listing } from "../../src/cli/listing.ts";
import { specs as inspecting } from "../../src/cli/inspect.ts";
import { GLOBAL_OPTIONS, splitGlobals } from "../../src/cli/globals.ts";
import { QUICK, quickSpec } from "../../src/cli/main.ts";
import { toCommand } from "../../src/cli/program.ts";
import { specs as creating } from "../../src/cli/run.ts";
import {
  type CommandSpec,
  parseFlags,
  quickParse,
} from "../../src/cli/spec.ts";

const SPECS = [...creating, ...lifecycle, ...listing, ...inspecting];
const spec = (name: string) => SPECS.find((s) => s.name === name)!;

/** What commander hands the action for `argv`, or "error". */
async function viaCommander(s: CommandSpec, argv: string[]) {
  let got: unknown[] | "error" = "error";
  const cmd = toCommand({ ...s, action: (...a) => void (got = a) }, () => {})
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    await cmd.parseAsync(argv, { from: "user" });
  } catch {
    got = "error";
  }
  return got;
}

// Lines quickParse must read itself, exactly as commander does.
const QUICK_LINES: [string, string[]][] = [
  ["run", ["--rm", "img", "true"]],
  ["run", ["-it", "--rm", "img", "sh", "-c", "echo $HOME"]],
  ["run", ["-d", "--name", "web", "-p", "127.0.0.1:8080:80", "img"]],
  ["run", ["-p8080:80", "-e", "A=1", "-eB=2", "--env=C=3", "img", "--x"]],
  ["run", ["--read-only-tmpfs", "false", "--read-only", "img"]],
  ["run", ["--read-only-tmpfs", "--rm", "img"]],
  ["run", ["--network", "none", "-v", "/a:/b:ro", "-v", "vol:/c", "img"]],
  ["run", ["--rootfs", "/", "--", "-rm"]],
  ["run", ["-h", "box", "-w", "/tmp", "-u", "1000:1000", "img", "id"]],
  ["run", ["--name", "-weird", "img"]],
  ["run", ["img", "-"]],
  ["create", ["--rm", "-l", "a=b", "--label", "c", "img", "x"]],
  ["ps", []],
  ["ps", ["-aq"]],
  ["ps", ["--no-trunc", "-f", "name=a", "--filter=status=running"]],
  ["ps", ["-n", "3", "--format", "json"]],
  ["rm", ["-f", "a", "b"]],
  ["rm", ["a", "-fv"]],
  ["inspect", ["-f", "{{.State.Status}}", "web"]],
  ["inspect", ["web", "--format", "json"]],
  ["inspect", ["--type", "volume", "web"]],
  ["stop", ["-t", "0", "web"]],
  ["kill", ["web"]],
  ["kill", ["-s", "TERM", "web", "db"]],
  ["logs", ["-f", "-n", "10", "web"]],
  ["exec", ["-i", "web", "sh", "-c", "ls -l"]],
  ["exec", ["-e", "A=1", "-u", "0", "web", "ps", "-ef"]],
  ["attach", ["--no-stdin", "web"]],
  // --latest stands for the container: every argument is the rest.
  ["exec", ["-l", "echo", "hi"]],
  ["top", ["-l", "pid"]],
  ["wait", ["--latest"]],
  ["inspect", ["-l", "-f", "{{.Id}}"]],
  ["attach", ["-l"]],
  ["top", ["web", "--", "-eo", "pid"]],
  ["top", ["web", "-eo", "pid"]],
  ["cp", ["web:/etc/hosts", "."]],
  ["cp", ["-a", "/src", "web:/dst"]],
  ["cp", ["--archive=false", "/src", "web:/dst"]],
  ["start", ["-ai", "web"]],
  ["start", ["--all", "--filter", "name=x"]],
  ["rm", ["-t", "0", "--all", "--force", "--ignore"]],
  ["rm", ["--depend", "--cidfile", "f", "--cidfile=g", "-l"]],
  ["rm", []],
  ["stop", ["-ai", "-t", "3"]],
  ["pause", ["-a", "--filter", "label=x"]],
  ["ps", ["--sort", "names", "--noheading", "-s", "--external", "-l"]],
];

// Lines left to commander: help, unknown options, wrong arguments.
const COMMANDER: [string, string[]][] = [
  ["run", ["--help"]],
  ["run", []],
  ["run", ["--bogus", "img"]],
  ["run", ["--rm=true", "img"]],
  ["run", ["--name"]],
  ["run", ["--read-only-tmpfs=maybe", "img"]],
  ["ps", ["-h"]],
  ["ps", ["extra"]],
  ["ps", ["-ax"]],
  ["rm", ["-t"]],
  ["ps", ["--sort"]],
  ["inspect", ["-f"]],
  ["rename", ["a"]],
  // No container and no --latest: commander says which is missing.
  ["exec", []],
  ["top", []],
  ["stop", ["-1", "web"]],
];

Deno.test("cli: quickParse reads ordinary lines exactly as commander", async () => {
  for (const [name, argv] of QUICK_LINES) {
    const quick = quickParse(spec(name), argv);
    assert(quick, `quickParse left ${name} ${argv.join(" ")} to commander`);
    assertEquals<unknown>(
      quick,
      await viaCommander(spec(name), argv),
      argv.join(" "),
    );
  }
});

Deno.test("cli: quickParse leaves help, errors and odd lines to commander", () => {
  for (const [name, argv] of COMMANDER) {
    assertEquals(quickParse(spec(name), argv), undefined, argv.join(" "));
  }
});

Deno.test("cli: option flags are read as commander names them", () => {
  assertEquals(parseFlags("-e, --env-file <file>"), {
    short: "-e",
    long: "--env-file",
    key: "envFile",
    value: "required",
    negate: false,
  });
  assertEquals(parseFlags("--no-trunc"), {
    short: undefined,
    long: "--no-trunc",
    key: "trunc",
    value: "none",
    negate: true,
  });
  assertEquals(parseFlags("--read-only-tmpfs [bool]").value, "optional");
});

Deno.test("cli: every hot command is found in the module that declares it", async () => {
  assertEquals(Object.keys(QUICK).sort(), SPECS.map((s) => s.name).sort());
  for (const s of SPECS) assertEquals(await quickSpec(s.name), s);
  assertEquals(await quickSpec("pull"), undefined);
  assertEquals(await quickSpec("constructor"), undefined);
});

Deno.test("cli: global options before the command, as commander reads them", async () => {
  const { Command } = await import("commander");
  const lines: [string[], string[]][] = [
    [["--root", "/r", "ps", "-a"], ["ps", "-a"]],
    [["--runroot=/x", "--storage-driver", "overlay", "run", "--rm", "i"], [
      "run",
      "--rm",
      "i",
    ]],
    [["--log-level", "debug", "--noout", "-r", "--tmpdir", "/t", "ps"], [
      "ps",
    ]],
    [["-c", "conn", "--url", "u", "--cgroup-manager", "systemd", "ps"], ["ps"]],
    [["--events-backend", "none", "inspect", "--root", "x"], [
      "inspect",
      "--root",
      "x",
    ]],
    [["ps"], ["ps"]],
  ];
  for (const [argv, rest] of lines) {
    const quick = splitGlobals(argv);
    assert(quick, argv.join(" "));
    assertEquals(quick.rest, rest);
    let seen: unknown;
    const p = new Command("ptd").enablePositionalOptions().exitOverride();
    for (const o of GLOBAL_OPTIONS) p.option(o.flags, o.description);
    p.addCommand(
      new Command(rest[0]).allowUnknownOption().allowExcessArguments()
        .passThroughOptions().argument("[a...]").action(() => {
          seen = p.opts();
        }),
    );
    await p.parseAsync(argv, { from: "user" });
    assertEquals<unknown>(quick.flags, seen, argv.join(" "));
  }
  // Help, the version and unknown options are commander's.
  for (
    const argv of [["--help", "ps"], ["-v"], ["--bogus", "ps"], ["--root"]]
  ) {
    assertEquals(splitGlobals(argv), undefined, argv.join(" "));
  }
});
