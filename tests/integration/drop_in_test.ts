/**
 * Scripts written for Podman, run unchanged against ptd: the same command
 * lines against Podman (rootless, runc) and ptd must end with the same exit
 * code and say the same thing where scripts match on it. Three tables:
 * command-line mistakes (cobra's words), the flags scripts pass to run,
 * create and the other verbs, and removal of containers others depend on;
 * then the behaviours only a file descriptor shows (--preserve-fds).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  busyboxRoot,
  ptdArgv,
  type Result,
  type Sandbox,
  withSandbox,
} from "../helpers.ts";
import {
  bothEngines,
  hasPodman,
  podmanLine,
  type Runner,
  sideBySide,
} from "../podman.ts";

interface Case {
  args: string[];
  code: number;
  /** Podman's first stderr line ("podman" read as "ptd"), or part of it. */
  says?: string;
  /** The second stderr line, whole (cobra's "See 'ptd X --help'"). */
  next?: string;
  /** stdout must match this in both. */
  out?: RegExp;
  /** Neither says this on stderr. */
  never?: string;
  /** What both read on stdin (default: nothing). */
  stdin?: string;
}

/** A line Podman refuses with exit 125, saying `says`. */
const refused = (says: string, ...args: string[]): Case => ({
  args,
  code: 125,
  says,
});

/** Lines refused before anything is looked up: cobra's wording. */
const MISTAKES: Case[] = [
  {
    args: ["rm", "--bogus", "x"],
    code: 125,
    says: "unknown flag: --bogus",
    next: "See 'ptd rm --help'",
  },
  {
    args: ["--bogus", "ps"],
    code: 125,
    says: "unknown flag: --bogus",
    next: "See 'ptd --help'",
  },
  {
    args: ["ps", "-n", "x"],
    code: 125,
    says:
      'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax',
    next: "See 'ptd ps --help'",
  },
  // An argument count's error has no second line.
  { args: ["rename", "a"], code: 125, next: "" },
  {
    args: ["imagess"],
    code: 125,
    says: "unrecognized command `ptd imagess`",
    out: /^$/,
    next: "",
  },
  {
    args: ["volume", "bogus"],
    code: 125,
    next: "Try 'ptd volume --help' for more information",
  },
  refused("`ptd attach` accepts at most one argument", "attach", "a", "b"),
  refused("`port` accepts at most 2 arguments", "port", "a", "b", "c"),
  // --latest with no container at all.
  refused("no such container", "exec", "-l", "true"),
  refused("no such container", "attach", "-l"),
  refused("no such container", "logs", "-l"),
  refused("no such container", "port", "-l"),
  refused("no such container", "wait", "-l"),
  refused("no such container", "stop", "-l"),
  { args: ["rm", "-l"], code: 1, says: "no such container" },
  refused(
    "unable to look up requested container: no such container",
    "top",
    "-l",
  ),
  refused("unable to get latest container: no such container", "diff", "-l"),
  {
    args: ["inspect", "-l"],
    code: 125,
    out: /^\[\]\n$/,
    says: "inspecting object: no containers to inspect: no such container",
  },
  refused(
    'latest is not supported for type "image"',
    "inspect",
    "-l",
    "--type",
    "image",
  ),
  refused("--latest and containers cannot be used together", "wait", "-l", "x"),
  refused("--latest and containers cannot be used together", "kill", "-l", "x"),
  refused(
    "--latest and arguments cannot be used together",
    "inspect",
    "-l",
    "x",
  ),
  refused(
    "the watch and latest flags cannot be used together",
    "ps",
    "-w",
    "1",
    "-l",
  ),
  refused("size and namespace options conflict", "ps", "--ns", "-s"),
  refused("quiet conflicts with size and namespace", "ps", "-q", "--ns"),
  // The pod verbs' --latest: the newest pod.
  refused("no such pod", "pod", "start", "-l"),
  refused("no such pod", "pod", "inspect", "-l"),
  refused("no such pod", "pod", "ps", "-l"),
  { args: ["pod", "rm", "-l"], code: 1, says: "no such pod" },
  refused(
    "unable to look up requested container: no such pod",
    "pod",
    "top",
    "-l",
  ),
  refused(
    "--latest and containers cannot be used together",
    "pod",
    "kill",
    "-l",
    "x",
  ),
  refused("no names or ids specified", "pod", "inspect"),
  // No answer to reset's question: a log line, exit 1.
  { args: ["system", "reset"], code: 1, says: "level=error msg=EOF" },
  { args: ["ps", "--bogus=1"], code: 125, says: "unknown flag: --bogus" },
  {
    args: ["rm", "-z", "x"],
    code: 125,
    says: "unknown shorthand flag: 'z' in -z",
  },
  {
    args: ["kill", "-s"],
    code: 125,
    says: "flag needs an argument: 's' in -s",
  },
  {
    args: ["kill", "--signal"],
    code: 125,
    says: "flag needs an argument: --signal",
  },
  {
    args: ["run"],
    code: 125,
    says: "requires at least 1 arg(s), only received 0",
  },
  {
    args: ["tag"],
    code: 125,
    says: "requires at least 2 arg(s), only received 0",
  },
  {
    args: ["rename", "a"],
    code: 125,
    says: "accepts 2 arg(s), received 1",
  },
  { args: ["cp", "a"], code: 125, says: "accepts 2 arg(s), received 1" },
  { args: ["export"], code: 125, says: "accepts 1 arg(s), received 0" },
  {
    args: ["images", "a", "b"],
    code: 125,
    says: "accepts at most 1 arg(s), received 2",
  },
  {
    args: ["volume", "create", "a", "b"],
    code: 125,
    says: "accepts at most 1 arg(s), received 2",
  },
  {
    args: ["import"],
    code: 125,
    says: "accepts between 1 and 2 arg(s), received 0",
  },
  { args: ["ps", "x"], code: 125, says: "`ptd ps` takes no arguments" },
  {
    args: ["system", "df", "x"],
    code: 125,
    says: "`ptd system df` takes no arguments",
  },
  { args: ["inspect"], code: 125, says: "no names or ids specified" },
  {
    args: ["logs"],
    code: 125,
    says: "specify at least one container name or ID to log",
  },
  {
    args: ["wait"],
    code: 125,
    says: '"ptd wait" requires a name, id, or the "--latest" flag',
  },
  {
    args: ["container", "diff"],
    code: 125,
    says: '"ptd container diff" requires a name, id, or the "--latest" flag',
  },
  {
    args: ["exec"],
    code: 125,
    says: "exec requires the name or ID of a container or the --latest flag",
  },
  {
    args: ["top"],
    code: 125,
    says: "you must provide the name or id of a running container",
  },
  { args: ["save"], code: 125, says: "need at least 1 argument" },
  {
    args: ["port"],
    code: 125,
    says: "you must supply a running container name or id",
  },
  {
    args: ["port", "-a", "x"],
    code: 125,
    says: "no arguments are needed with --all",
  },
  { args: ["bogus"], code: 125, says: "unrecognized command `ptd bogus`" },
  {
    args: ["volume", "bogus"],
    code: 125,
    says: "unrecognized command `ptd volume bogus`",
  },
  {
    args: ["volume"],
    code: 125,
    says: "missing command 'ptd volume COMMAND'",
  },
  {
    args: ["system"],
    code: 125,
    says: "missing command 'ptd system COMMAND'",
  },
  {
    args: ["pull", "--tls-verify=maybe", "x"],
    code: 125,
    says:
      'invalid argument "maybe" for "--tls-verify" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  },
  // A bool flag takes no value from the next word (the image here).
  {
    args: ["pull", "--tls-verify", "127.0.0.1:1/nope"],
    code: 125,
    never: "--tls-verify",
  },
  {
    args: ["volume", "inspect"],
    code: 125,
    says: "provide one or more volume names or use --all",
  },
  {
    args: ["volume", "create", "--driver", "bogus", "v"],
    code: 125,
    says:
      "volume v uses volume plugin bogus but it could not be retrieved: no volume plugin with name bogus available: required plugin missing",
  },
  {
    args: ["volume", "create", "-o", "bogus=1", "v"],
    code: 125,
    says: "invalid mount option bogus for driver 'local': invalid argument",
  },
  {
    args: ["wait", "--condition", "bogus", "x"],
    code: 125,
    says: "unknown container state: bogus: invalid argument",
  },
  // The prunes ask on stdin, terminal or not; no answer is "EOF".
  {
    args: ["system", "prune"],
    stdin: "n\n",
    code: 0,
    out: new RegExp(
      "^WARNING! This command removes:\n\t- all stopped containers\n" +
        "\t- all networks not used by at least one container\n" +
        "\t- all dangling images\n\t- all dangling build cache\n\n" +
        "Are you sure you want to continue\\? \\[y/N\\] $",
    ),
  },
  {
    args: ["system", "prune", "-a", "--volumes"],
    stdin: "n\n",
    code: 0,
    out: /all images without at least one container associated with them/,
  },
  { args: ["system", "prune"], code: 125, says: "EOF" },
  {
    args: ["system", "reset"],
    stdin: "n\n",
    code: 0,
    out: /^WARNING! This will remove:\n {8}- all containers\n/,
  },
  // login --get-login: the stored user name, or Podman's error.
  {
    args: ["login", "--get-login", "--authfile", "AUTH", "127.0.0.1:5000"],
    code: 0,
    out: /^bob\n$/,
  },
  {
    args: ["login", "--get-login", "--authfile", "AUTH", "other.example"],
    code: 125,
    says: "not logged into other.example",
  },
  { args: ["rmi", "-i", "nope"], code: 0 },
  { args: ["rmi", "--no-prune", "nope"], code: 1, says: "image not known" },
];

/** The first line of stderr, Podman's name read as ptd's. */
const firstLine = (r: Result): string =>
  r.stderr.split("\n")[0].replaceAll("podman", "ptd");

/** Runs `cases` on both engines: codes, error lines and output alike. */
async function compare(engines: Record<string, Runner>, cases: Case[]) {
  for (const c of cases) {
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(c.args, c.stdin);
      const what = `${name} ${c.args.join(" ")}: ${r.stderr}`;
      assertEquals(r.code, c.code, what);
      if (c.says !== undefined) {
        assert(firstLine(r).includes(c.says), `${what} (want ${c.says})`);
      }
      if (c.next !== undefined) {
        const line = r.stderr.split("\n")[1].replaceAll("podman", "ptd");
        assertEquals(line, c.next, what);
      }
      if (c.out) assertMatch(r.stdout, c.out, `${what}\n${r.stdout}`);
      if (c.never) assert(!r.stderr.includes(c.never), what);
    }
  }
}

/** `cases` with the placeholders (AUTH, ...) among their args filled in. */
function placed(cases: Case[], paths: Record<string, string>): Case[] {
  return cases.map((c) => ({
    ...c,
    args: c.args.map((a) => paths[a] ?? a),
  }));
}

/** A busybox image named `name` in both engines' stores. */
async function importImage(
  sb: Sandbox,
  engines: Record<string, Runner>,
  name: string,
  changes: string[] = [],
) {
  const tar = `${sb.dir}/bb.tar`;
  try {
    Deno.statSync(tar);
  } catch {
    const root = busyboxRoot(sb.dir, ["sleep", "true", "env", "grep", "cut"]);
    const t = new Deno.Command("tar", { args: ["-C", root, "-cf", tar, "."] })
      .outputSync();
    assertEquals(t.code, 0);
  }
  const flags = ["ENV PATH=/bin", 'CMD ["sh"]', ...changes]
    .flatMap((c) => ["--change", c]);
  for (const [engine, run] of Object.entries(engines)) {
    const r = await run(["import", ...flags, tar, name]);
    assertEquals(r.code, 0, `${engine} import: ${r.stderr}`);
  }
}

Deno.test("command-line mistakes: Podman's exit codes and cobra's words", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    const auth = `${sb.dir}/auth.json`;
    Deno.writeTextFileSync(
      auth,
      JSON.stringify({ auths: { "127.0.0.1:5000": { auth: btoa("bob:pw") } } }),
    );
    await sideBySide(
      sb,
      engines,
      () => compare(engines, placed(MISTAKES, { AUTH: auth })),
    );
  });
});

const ID = /^[0-9a-f]{64}\n$/;

/** Flags of run, create and the other verbs, on the image "bb". */
const FLAGS: Case[] = [
  // Bool flags never take the next word as their value.
  { args: ["run", "--rm", "--tls-verify", "bb", "true"], code: 0 },
  { args: ["run", "--rm", "--passwd", "bb", "true"], code: 0 },
  {
    args: [
      "run",
      "--rm",
      "-q",
      "--sig-proxy=false",
      "--disable-content-trust",
      "--http-proxy=false",
      "--init-path",
      "/nowhere",
      "bb",
      "true",
    ],
    code: 0,
  },
  {
    args: ["run", "--rm", "--unsetenv", "TERM", "bb", "env"],
    code: 0,
    out: /^(?![\s\S]*TERM=)[\s\S]*container=podman/,
  },
  {
    args: ["run", "--rm", "--unsetenv-all", "-e", "A=1", "bb", "/bin/env"],
    code: 0,
    out: /^(?![\s\S]*(TERM|container)=)[\s\S]*A=1/,
  },
  {
    args: ["run", "--rm", "--image-volume", "bogus", "bb", "true"],
    code: 125,
    says:
      'invalid image volume mode "bogus" required value: bind, tmpfs, ignore',
  },
  {
    args: [
      "run",
      "--rm",
      "--image-volume",
      "tmpfs",
      "bbvol",
      "sh",
      "-c",
      [
        "grep ' /data ' /proc/mounts | cut -d' ' -f3",
      ].join(""),
    ],
    code: 0,
    out: /^tmpfs\n$/,
  },
  {
    args: [
      "run",
      "--rm",
      "--image-volume",
      "ignore",
      "bbvol",
      "sh",
      "-c",
      [
        "grep -c ' /data ' /proc/mounts",
      ].join(""),
    ],
    code: 1,
    out: /^0\n$/,
  },
  {
    args: ["run", "--rm", "--label-file", "/nonexistent", "bb", "true"],
    code: 125,
    says: "unable to process labels: open /nonexistent",
  },
  {
    args: ["run", "--rm", "--requires", "nope", "bb", "true"],
    code: 125,
    says:
      '"nope" is not a valid container, cannot be used as a dependency: no container with name or ID "nope" found: no such container',
  },
  // -a stdin alone attaches no output: the id is printed, the code kept.
  {
    args: ["run", "--rm", "-a", "stdin", "bb", "sh", "-c", "exit 3"],
    code: 3,
    out: ID,
  },
  {
    args: ["run", "--rm", "-a", "stdin", "-a", "stderr", "bb", "true"],
    code: 0,
    out: /^$/,
  },
  {
    args: [
      "create",
      "--name",
      "lab",
      "--label-file",
      "LABELS",
      "-l",
      "b=3",
      "--annotation",
      "x=y",
      "bb",
    ],
    code: 0,
    out: ID,
  },
  {
    args: [
      "inspect",
      "--format",
      '{{json .Config.Labels}} {{index .Config.Annotations "x"}}',
      "lab",
    ],
    code: 0,
    out: /^\{"a":"1","b":"3"\} y\n$/,
  },
  {
    args: ["inspect", "-s", "--format", "{{.SizeRw}} {{.SizeRootFs}}", "lab"],
    code: 0,
    out: /^\d+ [1-9]\d*\n$/,
  },
  // --requires: a dependency, started first.
  { args: ["create", "--name", "req", "bb", "sleep", "1000"], code: 0 },
  {
    args: ["create", "--name", "needs", "--requires", "req", "bb", "true"],
    code: 0,
  },
  { args: ["start", "needs"], code: 0 },
  {
    args: ["inspect", "--format", "{{.State.Running}}", "req"],
    code: 0,
    out: /^true\n$/,
  },
  {
    args: ["inspect", "--format", "{{len .Dependencies}}", "needs"],
    code: 0,
    out: /^1\n$/,
  },
  { args: ["rm", "-f", "-t", "0", "--depend", "req"], code: 0 },
  // wait --condition
  { args: ["create", "--name", "w", "bb", "sleep", "1000"], code: 0 },
  { args: ["start", "w"], code: 0 },
  {
    args: ["wait", "--condition", "running", "-i", "100ms", "w"],
    code: 0,
    out: /^-1\n$/,
  },
  // exec --privileged: the full capability set.
  {
    args: ["exec", "--privileged", "w", "grep", "CapEff", "/proc/self/status"],
    code: 0,
    out: /^CapEff:\s+0*1f{10}\n$/,
  },
  { args: ["rm", "-f", "-t", "0", "w"], code: 0 },
  // The id of the container on each line of port -a.
  {
    args: ["run", "-d", "--name", "web", "-p", "80", "bb", "sleep", "1000"],
    code: 0,
  },
  {
    args: ["port", "-a"],
    code: 0,
    out: /^[0-9a-f]{12}\t80\/tcp -> 0\.0\.0\.0:\d+\n$/,
  },
  { args: ["rm", "-f", "-t", "0", "web"], code: 0 },
  { args: ["volume", "create", "--driver", "local", "v1"], code: 0 },
  {
    args: ["volume", "inspect", "-a", "--format", "{{.Name}}"],
    code: 0,
    out: /^v1\n$/,
  },
  // --sysctl: the container's own namespaces' knobs only.
  {
    args: [
      "run",
      "--rm",
      "--sysctl",
      "net.ipv4.ping_group_range=0 1000",
      "--sysctl",
      "kernel.msgmax=65536",
      "bb",
      "cat",
      "/proc/sys/net/ipv4/ping_group_range",
      "/proc/sys/kernel/msgmax",
    ],
    code: 0,
    out: /^0\t1000\n65536\n$/,
  },
  {
    args: ["run", "--rm", "--sysctl", "vm.swappiness=1", "bb", "true"],
    code: 125,
    says: "sysctl 'vm.swappiness' is not allowed",
  },
  {
    args: ["run", "--rm", "--sysctl", "net.ipv4.x", "bb", "true"],
    code: 125,
    says:
      "net.ipv4.x is invalid, sysctl values must be in the form of KEY=VALUE",
  },
  {
    args: [
      "run",
      "--rm",
      "--network",
      "host",
      "--sysctl",
      "net.ipv4.ip_forward=1",
      "bb",
      "true",
    ],
    code: 125,
    says:
      "sysctl net.ipv4.ip_forward=1 can't be set since Network Namespace set to host",
  },
  {
    args: ["run", "--rm", "--sysctl", "net.ipv4.nope=1", "bb", "true"],
    code: 127,
    says: "open /proc/sys/net/ipv4/nope: no such file or directory",
  },
  // --no-hosts: no /etc/hosts of ptd's over the image's (it has none).
  { args: ["run", "--rm", "--no-hosts", "bb", "ls", "/etc/hosts"], code: 1 },
  {
    args: ["run", "--rm", "--no-hosts", "--add-host", "a:1.2.3.4", "bb"],
    code: 125,
    says: "--no-hosts and --add-host cannot be set together",
  },
  // --volumes-from: another container's volumes, :ro as asked.
  { args: ["create", "--name", "data", "-v", "/data", "bb"], code: 0 },
  {
    args: [
      "run",
      "--rm",
      "--volumes-from",
      "data:ro",
      "bb",
      "sh",
      "-c",
      [
        "grep ' /data ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1",
      ].join(""),
    ],
    code: 0,
    out: /^ro\n$/,
  },
  {
    args: ["run", "--rm", "--volumes-from", "data:bogus", "bb", "true"],
    code: 125,
    says:
      'invalid option "bogus" specified - volumes from another container can only use z,ro,rw options',
  },
  {
    args: ["run", "--rm", "--volumes-from", "nope", "bb", "true"],
    code: 125,
    says: 'looking up container "nope" for volumes-from: no container',
  },
  { args: ["tag", "bb", "gone"], code: 0 },
  { args: ["run", "--rmi", "gone", "true"], code: 0 },
  { args: ["image", "exists", "gone"], code: 1 },
  // system prune --filter: only what the filter selects goes.
  { args: ["create", "--name", "keep", "-l", "keep=1", "bb"], code: 0 },
  { args: ["create", "--name", "go", "bb"], code: 0 },
  {
    args: ["system", "prune", "-f", "--filter", "label=keep=1"],
    code: 0,
    out:
      /^Deleted Containers\n[0-9a-f]{64}\nTotal reclaimed space: [\d.]+[kM]?B\n$/,
  },
  {
    args: ["ps", "-a", "--filter", "name=keep", "--format", "{{.Names}}"],
    code: 0,
    out: /^$/,
  },
  // import --arch/--os: the platform the image claims.
  {
    args: ["import", "-q", "--arch", "arm64", "--os", "linux", "TAR", "armx"],
    code: 0,
  },
  {
    args: ["image", "inspect", "--format", "{{.Architecture}} {{.Os}}", "armx"],
    code: 0,
    out: /^arm64 linux\n$/,
  },
  // untag: the names given, or all of them; the image stays.
  { args: ["tag", "bb", "u1"], code: 0 },
  {
    args: ["untag", "bb", "nope"],
    code: 125,
    says: "localhost/nope:latest: tag not known",
  },
  { args: ["untag", "u1"], code: 0 },
  { args: ["image", "exists", "bb"], code: 1 },
  {
    args: [
      "images",
      "--format",
      "{{.Repository}}:{{.Tag}}",
      "--filter",
      "dangling=true",
    ],
    code: 0,
    out: /^<none>:<none>\n$/,
  },
];

Deno.test("run, create and the other verbs take Podman's flags", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      await importImage(sb, engines, "localhost/bbvol", ["VOLUME /data"]);
      const labels = `${sb.dir}/labels`;
      Deno.writeTextFileSync(labels, "a=1\n# a comment\nb=2\n");
      await compare(
        engines,
        placed(FLAGS, { LABELS: labels, TAR: `${sb.dir}/bb.tar` }),
      );
    });
  });
});

Deno.test("rm of a container others depend on: refused, --depend first", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      await compare(engines, [
        {
          args: ["run", "-d", "--name", "base", "bb", "sleep", "1000"],
          code: 0,
        },
        {
          args: [
            "run",
            "-d",
            "--name",
            "dep",
            "--network",
            "container:base",
            "bb",
            "sleep",
            "1000",
          ],
          code: 0,
        },
        {
          args: ["create", "--name", "dep2", "--ipc", "container:base", "bb"],
          code: 0,
        },
        {
          args: ["rm", "base"],
          code: 2,
          says:
            "as it is running - running or paused containers cannot be removed without force",
        },
        // Even -f, even with the dependents stopped.
        { args: ["stop", "-t", "0", "dep"], code: 0 },
        {
          args: ["rm", "-f", "base"],
          code: 125,
          says: "has dependent containers which must be removed before it",
        },
        {
          args: ["inspect", "--format", "{{.State.Running}}", "base"],
          code: 0,
          out: /^true\n$/,
        },
        {
          args: ["rm", "-f", "-t", "0", "--depend", "base"],
          code: 0,
          out: /^([0-9a-f]{64}\n){3}$/,
        },
        { args: ["ps", "-aq"], code: 0, out: /^$/ },
      ]);
    });
  });
});

/** cp's owners: the container's user with --archive, its root without. */
Deno.test("cp --archive=false lands files as the container's root", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    const file = `${sb.dir}/f.txt`;
    Deno.writeTextFileSync(file, "hi\n");
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      await compare(engines, [
        {
          args: ["create", "--name", "c", "-u", "100:100", "bb", "sleep", "99"],
          code: 0,
        },
        { args: ["cp", file, "c:/a.txt"], code: 0 },
        { args: ["cp", "--archive=false", file, "c:/b.txt"], code: 0 },
        { args: ["cp", "-a=false", file, "c:/c.txt"], code: 0 },
        { args: ["start", "c"], code: 0 },
        {
          args: ["exec", "c", "stat", "-c", "%n %u:%g", "/a.txt", "/b.txt"],
          code: 0,
          out: /^\/a\.txt 100:100\n\/b\.txt 0:0\n$/,
        },
        {
          args: ["exec", "c", "stat", "-c", "%u:%g", "/c.txt"],
          code: 0,
          out: /^0:0\n$/,
        },
      ]);
    });
  });
});

/**
 * `ENGINE ARGS` through a shell that opened `file` as descriptor 3 first:
 * what a script does to hand a container a descriptor.
 */
async function withFd3(
  line: { argv: string[]; env: Record<string, string> },
  file: string,
): Promise<Result> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'f=$1; shift; exec "$@" 3>>"$f"', "sh", file, ...line.argv],
    env: line.env,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("--preserve-fds: run -d hands descriptors on, exec only those", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      const lines = {
        podman: (args: string[]) => podmanLine(sb, args),
        ptd: (args: string[]) => ({ argv: ptdArgv(args), env: sb.env }),
      };
      for (const [name, line] of Object.entries(lines)) {
        const file = `${sb.dir}/fd3-${name}`;
        Deno.writeTextFileSync(file, "");
        const run = await withFd3(
          line([
            "run",
            "-d",
            "--name",
            "pfd",
            "--preserve-fds",
            "1",
            "bb",
            "sh",
            "-c",
            "echo through-3 >&3; sleep 1000",
          ]),
          file,
        );
        assertEquals(run.code, 0, `${name}: ${run.stderr}`);
        const end = Date.now() + 10_000;
        while (Deno.readTextFileSync(file) === "" && Date.now() < end) {
          await new Promise((ok) => setTimeout(ok, 100));
        }
        assertEquals(Deno.readTextFileSync(file), "through-3\n", name);
        // exec: descriptor 3 of the caller only with --preserve-fds.
        const ls = ["ls", "/proc/self/fd/3"];
        const leak = await withFd3(line(["exec", "pfd", ...ls]), file);
        assertEquals(leak.code, 1, `${name} exec: ${leak.stdout}`);
        const kept = await withFd3(
          line(["exec", "--preserve-fds", "1", "pfd", ...ls]),
          file,
        );
        assertEquals(kept.code, 0, `${name} exec: ${kept.stderr}`);
        const gone = await engines[name as "ptd"]([
          "rm",
          "-f",
          "-t",
          "0",
          "pfd",
        ]);
        assertEquals(gone.code, 0, gone.stderr);
      }
    });
  });
});

Deno.test("diff and written size of a vfs container, as Podman's", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const both = bothEngines(sb);
    // Podman's peer stores with vfs already; ptd's store starts as one.
    const engines: Record<string, Runner> = Object.fromEntries(
      Object.entries(both).map(([name, run]) => [
        name,
        (args: string[]) => run(["--storage-driver", "vfs", ...args]),
      ]),
    );
    await sideBySide(sb, both, async () => {
      await importImage(sb, engines, "localhost/bb");
      const script = "echo x > /new; mkdir -p /d/e; echo y > /d/e/f; " +
        "rm /bin/true; echo z >> /etc/passwd; chmod 700 /tmp";
      await compare(engines, [
        { args: ["run", "--name", "vd", "bb", "sh", "-c", script], code: 0 },
        {
          args: ["ps", "-a", "--size", "--format", "{{.Size}}"],
          code: 0,
          out: /^[1-9]\d*B \(virtual [\d.]+MB\)\n$/,
        },
        {
          args: ["system", "df", "--format", "{{.Type}} {{.Size}}"],
          code: 0,
          out: /^Containers [1-9]\d*B$/m,
        },
      ]);
      const diffs: Record<string, string[]> = {};
      for (const [name, run] of Object.entries(engines)) {
        const r = await run(["diff", "vd"]);
        assertEquals(r.code, 0, `${name} diff: ${r.stderr}`);
        diffs[name] = r.stdout.trim().split("\n").sort();
      }
      assertEquals(diffs.ptd, diffs.podman);
      assertEquals(diffs.ptd.length, 9, diffs.ptd.join("\n"));
    });
  });
});

Deno.test('containers.conf base_hosts_file = "image": the image\'s own hosts', {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const conf = `${sb.dir}/containers.conf`;
    Deno.writeTextFileSync(conf, '[containers]\nbase_hosts_file = "image"\n');
    const engines = bothEngines(sb, { CONTAINERS_CONF: conf });
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      // The same root with an /etc/hosts of its own.
      Deno.writeTextFileSync(`${sb.dir}/bbroot/etc/hosts`, "10.9.9.9 imgh\n");
      const tar = `${sb.dir}/hosts.tar`;
      const t = new Deno.Command("tar", {
        args: ["-C", `${sb.dir}/bbroot`, "-cf", tar, "."],
      }).outputSync();
      assertEquals(t.code, 0);
      await compare(engines, [
        { args: ["import", "-q", tar, "localhost/withhosts"], code: 0 },
        {
          args: ["run", "--rm", "withhosts", "cat", "/etc/hosts"],
          code: 0,
          out: /^10\.9\.9\.9\s+imgh\n127\.0\.0\.1\s+localhost\n/,
        },
        // No /etc/hosts in the image: the start fails, as Podman's does.
        {
          args: ["run", "--rm", "bb", "true"],
          code: 127,
          says: "failed to create new hosts file: open ",
        },
      ]);
    });
  });
});

Deno.test("--http-proxy: the caller's proxy variables, unless false", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb, { http_proxy: "http://px:3128" });
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      await compare(engines, [
        {
          args: ["run", "--rm", "bb", "env"],
          code: 0,
          out: /^http_proxy=http:\/\/px:3128$/m,
        },
        {
          args: ["run", "--rm", "--http-proxy=false", "bb", "env"],
          code: 0,
          out: /^(?![\s\S]*http_proxy)/,
        },
      ]);
    });
  });
});

/** --latest stands for the newest container; ps and images' extra views. */
const LATEST: Case[] = [
  { args: ["create", "--name", "old", "bb", "sleep", "1000"], code: 0 },
  { args: ["run", "-d", "--name", "new", "bb", "sleep", "1000"], code: 0 },
  { args: ["exec", "-l", "echo", "hi"], code: 0, out: /^hi\n$/ },
  {
    args: ["exec", "new"],
    code: 255,
    says:
      "must provide a non-empty command to start an exec session: invalid argument",
  },
  {
    args: ["inspect", "-l", "--format", "{{.Name}}"],
    code: 0,
    out: /^new\n$/,
  },
  {
    args: ["container", "inspect", "-l", "--format", "{{.Name}}"],
    code: 0,
    out: /^new\n$/,
  },
  { args: ["top", "-l", "args"], code: 0, out: /^COMMAND\nsleep 1000 *\n$/ },
  { args: ["logs", "-l"], code: 0, out: /^$/ },
  { args: ["port", "-l"], code: 0, out: /^$/ },
  // The namespaces' inode numbers, in Podman's columns.
  {
    args: ["ps", "--ns"],
    code: 0,
    out: new RegExp(
      "^CONTAINER ID +NAMES +PID +CGROUPNS +IPC +MNT +NET +PIDNS +USERNS +UTS\n" +
        "[0-9a-f]{12} +new +[1-9]\\d*( +\\d{6,}){7}\n$",
    ),
  },
  {
    args: ["ps", "--ns", "--format", "{{.NET}} {{.PIDNS}}"],
    code: 0,
    out: /^\d{6,} \d{6,}\n$/,
  },
  {
    args: ["ps", "-a", "--pod", "--noheading", "--format", "table {{.Names}}"],
    code: 0,
    out: /^old\nnew\n$/,
  },
  {
    args: ["ps", "-p"],
    code: 0,
    out: /^CONTAINER ID .* NAMES +POD ID +PODNAME\n/,
  },
  { args: ["stop", "-l", "-t", "0"], code: 0, out: /^[0-9a-f]{64}\n$/ },
  {
    args: ["wait", "-l"],
    code: 0,
    out: /^137\n$/,
  },
  { args: ["rm", "-l"], code: 0, out: /^[0-9a-f]{64}\n$/ },
  {
    args: ["ps", "-a", "--format", "{{.Names}}"],
    code: 0,
    out: /^old\n$/,
  },
  { args: ["tag", "bb", "bb:two"], code: 0 },
  { args: ["commit", "-q", "old", "other"], code: 0 },
  {
    args: ["images", "--history", "--format", "table {{.Tag}}", "bb"],
    code: 0,
    out: /^TAG\n/,
  },
  {
    args: ["images", "--history", "bb:two"],
    code: 0,
    out:
      /^REPOSITORY .* SIZE +HISTORY\n(localhost\/bb .* localhost\/bb:two, localhost\/bb:latest\n){2}$/,
  },
  // The local driver's tmpfs; what needs root fails at the start.
  {
    args: ["volume", "create", "-o", "type=tmpfs", "-o", "o=nodev", "tv"],
    code: 0,
  },
  {
    args: ["volume", "inspect", "--format", "{{.Options.type}}", "tv"],
    code: 0,
    out: /^tmpfs\n$/,
  },
  {
    args: ["volume", "ls", "-q", "--filter", "opt=type=tmpfs"],
    code: 0,
    out: /^tv\n$/,
  },
  {
    args: [
      "run",
      "--rm",
      "-v",
      "tv:/d",
      "bb",
      "sh",
      "-c",
      "grep ' /d ' /proc/mounts | cut -d' ' -f3",
    ],
    code: 0,
    out: /^tmpfs\n$/,
  },
  {
    args: ["volume", "create", "-o", "type=bind", "-o", "device=/tmp", "bv"],
    code: 0,
  },
  { args: ["run", "--rm", "-v", "bv:/d", "bb", "true"], code: 126 },
  {
    args: ["volume", "create", "-o", "o=size=1m", "qv"],
    code: 125,
    says:
      "volume options size and inodes not supported. Filesystem does not support Project Quota",
  },
  {
    args: ["network", "ls", "--no-trunc", "-f", "name=^podman$", "--noheading"],
    code: 0,
    out: /^[0-9a-f]{64} +podman +bridge\n$/,
  },
  // PATH is one of the defaults --unsetenv takes away.
  {
    args: ["run", "--rm", "--unsetenv", "PATH", "bb", "/bin/env"],
    code: 0,
    out: /^(?![\s\S]*PATH=)[\s\S]*HOME=\/root\nHOSTNAME=/,
  },
  {
    args: ["run", "--rm", "--unsetenv-all", "bb", "/bin/env"],
    code: 0,
    out: /^HOME=\/root\nHOSTNAME=[0-9a-f]+\n$/,
  },
];

Deno.test("--latest, ps --ns/--pod, images --history, --unsetenv PATH", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      await importImage(sb, engines, "localhost/bb");
      await compare(engines, LATEST);
      // The root's size is its layers' files, counted alike.
      const sizes = [];
      for (const run of Object.values(engines)) {
        const r = await run(["inspect", "-s", "-f", "{{.SizeRootFs}}", "old"]);
        sizes.push(r.stdout);
      }
      assertMatch(sizes[0], /^[1-9]\d*\n$/);
      assertEquals(sizes[1], sizes[0]);
    });
  });
});

Deno.test("ps -w lists again every N seconds until stopped", async () => {
  await withSandbox(async (sb) => {
    const child = new Deno.Command(ptdArgv(["ps", "-w", "1"])[0], {
      args: ptdArgv(["ps", "-w", "1"]).slice(1),
      env: sb.env,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while ((text.match(/CONTAINER ID/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
    assertEquals((text.match(/CONTAINER ID/g) ?? []).length, 2, text);
  });
});

/** Every key of a JSON value, as paths; maps keyed by data collapse to *. */
function keyPaths(v: unknown, at = "", out = new Set<string>()): Set<string> {
  out.add(
    `${at}:${v === null ? "null" : Array.isArray(v) ? "array" : typeof v}`,
  );
  if (Array.isArray(v)) v.forEach((x) => keyPaths(x, `${at}[]`, out));
  else if (v && typeof v === "object") {
    const byData =
      /\.(Labels|Annotations|Options|Ports|PortBindings|Networks|Data)$/
        .test(at);
    for (const [k, x] of Object.entries(v)) {
      keyPaths(x, `${at}.${byData ? "*" : k}`, out);
    }
  }
  return out;
}

/** What a command printed as JSON: one document, or one per line. */
function documents(text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    return text.trim().split("\n").map((l) => JSON.parse(l));
  }
}

/**
 * Keys Podman shows that ptd has no value for (yet): its runtime's and
 * conmon's details, what containers.conf adds by default.
 */
const KNOWN_MISSING = new Set([
  "[].State.CgroupPath:string",
  "[].Config.Annotations.*:string",
  "[].Config.Umask:string",
  "[].HostConfig.Ulimits[]:object",
  "[].HostConfig.Ulimits[].Name:string",
  "[].HostConfig.Ulimits[].Soft:number",
  "[].HostConfig.Ulimits[].Hard:number",
  "[].NetworkSettings.Networks.*.Aliases[]:string",
  // A field Podman fills only from the Docker API's container list.
  "[].Command:null",
  // The host's containers.conf narrows Podman's default capabilities;
  // ptd's tests run without one.
  "[].HostConfig.CapDrop[]:string",
]);

/**
 * A network name of this run's own: rootless Podman keeps networks in the
 * user's config dir, outside the sandbox.
 */
const NET = `shapes-${crypto.randomUUID().slice(0, 8)}`;

/** Objects of every kind, made alike in both engines. */
const SHAPE_SETUP = [
  ["network", "create", NET],
  ["volume", "create", "sv"],
  ["create", "--name", "sstop", "-l", "a=b", "-v", "sv:/data", "bb"],
  [
    "run",
    "-d",
    "--name",
    "srun",
    "--network",
    NET,
    "-p",
    "80",
    "bb",
    "sleep",
    "1000",
  ],
];

const SHAPES = [
  ["ps", "-a", "--format", "json"],
  ["ps", "-a", "--format", "{{json .}}"],
  ["ps", "-a", "--ns", "--format", "json"],
  ["images", "--format", "json"],
  ["images", "--format", "{{json .}}"],
  ["volume", "ls", "--format", "json"],
  ["volume", "ls", "--format", "{{json .}}"],
  ["network", "ls", "--format", "json"],
  ["network", "ls", "--format", "{{json .}}"],
  ["container", "inspect", "srun", "sstop"],
  ["inspect", "-s", "sstop"],
  ["image", "inspect", "bb"],
  ["volume", "inspect", "sv"],
  ["network", "inspect", NET],
  ["history", "--format", "json", "bb"],
];

Deno.test("JSON of listings and inspect: Podman's field names and types", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const both = bothEngines(sb);
    // ptd on vfs too: the driver's own fields (GraphDriver.Data) alike.
    const engines: Record<string, Runner> = {
      podman: both.podman,
      ptd: (args) => both.ptd(["--storage-driver", "vfs", ...args]),
    };
    await sideBySide(sb, both, async () => {
      await importImage(sb, engines, "localhost/bb");
      try {
        await shapesAlike(engines);
      } finally {
        await both.podman(["rm", "-f", "-t", "0", "srun"]);
        await both.podman(["network", "rm", NET]);
      }
    });
  });
});

/** Makes SHAPE_SETUP in both engines and compares SHAPES' keys. */
async function shapesAlike(engines: Record<string, Runner>) {
  for (const args of SHAPE_SETUP) {
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(args);
      assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
    }
  }
  for (const args of SHAPES) {
    const keys: Record<string, Set<string>> = {};
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(args);
      assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
      keys[name] = new Set();
      for (const d of documents(r.stdout)) keyPaths(d, "", keys[name]);
    }
    const missing = [...keys.podman].filter((k) =>
      !keys.ptd.has(k) && !KNOWN_MISSING.has(k)
    );
    const extra = [...keys.ptd].filter((k) => !keys.podman.has(k));
    assertEquals(
      { missing, extra },
      { missing: [], extra: [] },
      args.join(" "),
    );
  }
}

Deno.test("inspect's create-time fields carry Podman's values", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const both = bothEngines(sb);
    const engines: Record<string, Runner> = both;
    await sideBySide(sb, both, async () => {
      await importImage(sb, engines, "localhost/bb");
      const line = ["create", "--name", "vals", "localhost/bb", "true"];
      const seen: Record<string, unknown> = {};
      for (const [name, run] of Object.entries(engines)) {
        assertEquals((await run(line)).code, 0, name);
        const doc = JSON.parse((await run(["inspect", "vals"])).stdout)[0];
        const image =
          JSON.parse((await run(["image", "inspect", "bb"])).stdout)[0];
        const cmd: string[] = doc.Config.CreateCommand;
        // The executable's name first, as typed; global flags may follow.
        assertEquals(cmd[0].split("/").pop(), name);
        assertEquals(cmd.slice(-line.length), line, name);
        assertEquals(doc.ImageDigest, image.Digest, name);
        seen[name] = {
          oci: doc.State.OciVersion,
          timeout: doc.Config.Timeout,
          passwd: doc.Config.Passwd,
          notify: doc.Config.sdNotifyMode,
          manager: doc.HostConfig.CgroupManager,
          devices: doc.HostConfig.Devices,
        };
        await run(["rm", "vals"]);
      }
      assertEquals(seen.ptd, seen.podman);
    });
  });
});
