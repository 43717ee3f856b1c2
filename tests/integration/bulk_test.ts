/**
 * Bulk and selection flags, filters, sorting and the prunes' question,
 * against Podman: the same command lines, in the same order, on the same
 * containers (one running with a named volume, one created with a label,
 * one exited), images and volumes. Exit codes must be Podman's, stdout the
 * same once ids are read as names, and errors must say the same thing.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { busyboxRoot, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

interface Step {
  args: string[];
  code: number;
  /** In both engines' stderr. */
  says?: string;
  /**
   * How stdout is compared: in order, as a set of lines, by its number of
   * lines (image ids differ), or not at all.
   */
  out?: "list" | "set" | "count";
  /** Fed to stdin (else none). */
  stdin?: string;
}

/** A step that must fail with 125 and say `says`. */
const fails = (args: string[], says: string): Step => ({
  args,
  code: 125,
  says,
});

/** Steps that must succeed and list the same, one per value. */
const listings = (values: string[], args: (v: string) => string[]) =>
  values.map((v): Step => ({ args: args(v), code: 0, out: "list" }));

const names = (...args: string[]) => [...args, "--format", "{{.Names}}"];
const ps = (...filters: string[]) =>
  names("ps", "-a", ...filters.flatMap((f) => ["--filter", f]));

/** `ps` and its filters, sorting and selection: read only. */
const LISTING: Step[] = [
  { args: names("ps", "-a"), code: 0, out: "list" },
  { args: names("ps"), code: 0, out: "list" },
  { args: names("ps", "--filter", "name=made"), code: 0, out: "list" },
  { args: names("ps", "--filter", "status=exited"), code: 0, out: "list" },
  { args: ["ps", "-a", "--format", "{{.Command}}"], code: 0, out: "list" },
  { args: names("ps", "-a", "--sort", "names"), code: 0, out: "list" },
  { args: names("ps", "-a", "--sort", "runningfor"), code: 0, out: "list" },
  { args: names("ps", "-l"), code: 0, out: "list" },
  { args: names("ps", "-n", "2"), code: 0, out: "list" },
  { args: names("ps", "--last", "0"), code: 0, out: "list" },
  { args: ["ps", "-a", "-q", "--external"], code: 0, out: "list" },
  { args: ["ps", "-a", "--noheading"], code: 0, out: "count" },
  fails(
    ["ps", "--sort", "bogus"],
    'invalid argument "bogus" for "--sort" flag: "bogus" is not a valid value.  Choose from: "command, created, id, image, names, runningfor, size, status"',
  ),
  ...listings([
    "name=run",
    "name=^ma",
    "id=.",
    "label=a",
    "label=a=b",
    "label=a=c",
    "status=running",
    "status=created",
    "status=exited",
    "status=stopped",
    "status=paused",
    "exited=0",
    "exited=1",
    "before=made",
    "since=made",
    "volume=vol",
    "volume=vol:/tmp",
    "volume=vol:/x",
    "network=none",
    "health=healthy",
    "pod=x",
    "until=1h",
    "ancestor=localhost/bb:1",
    "ancestor=localhost/bb",
    "ancestor=bb",
  ], (f) => ps(f)),
  { args: ps("name=run1", "status=exited"), code: 0, out: "list" },
  { args: ps("name=run1", "name=made"), code: 0, out: "list" },
  fails(ps("bogus=1"), "bogus is an invalid filter"),
  fails(ps("name"), 'invalid filter "name"'),
  fails(ps("status=bogus"), "unknown container state: bogus: invalid argument"),
  fails(ps("exited=abc"), 'strconv.ParseInt: parsing "abc": invalid syntax'),
  fails(
    ps("before=missing"),
    'no container with name or ID "missing" found: no such container',
  ),
];

/** The bulk verbs, in an order where each step's state is known. */
const BULK: Step[] = [
  {
    args: ["stop", "gone1", "missing", "gone2"],
    code: 125,
    says: 'no container with name or ID "gone1" found: no such container',
    out: "list",
  },
  { args: ["stop", "-i", "missing"], code: 0, out: "list" },
  { args: ["stop", "-i", "missing", "made"], code: 0, out: "list" },
  { args: ["kill", "made", "missing"], code: 125, out: "list" },
  { args: ["rm", "-i", "missing"], code: 0, out: "list" },
  {
    args: ["rm", "gone1", "made"],
    code: 1,
    says: '"gone1" found',
    out: "list",
  },
  fails(
    ["rm", "-t", "0", "made"],
    "--force option must be specified to use the --time option",
  ),
  fails(["pause", "made"], '"created" is not running, can\'t pause'),
  fails(["pause"], "you must provide at least one name or id"),
  fails(["kill", "-s", "BOGUS", "missing"], "invalid signal: BOGUS"),
  fails(["stop"], "you must provide at least one name or id"),
  fails(["kill"], "you must provide at least one name or id"),
  fails(["stop", "-a", "made"], "no arguments are needed with --all"),
  fails(["stop", "-a", "-l"], "--all and --latest cannot be used together"),
  fails(["start"], "start requires at least one argument"),
  fails(
    ["start", "--all", "made"],
    "either start all containers or the container(s) provided in the arguments",
  ),
  fails(
    ["rm", "--cidfile", "/nonexistent"],
    "reading CIDFile: open /nonexistent: no such file or directory",
  ),
  fails(
    ["stop", "-t", "-1", "run1"],
    'strconv.ParseUint: parsing "-1": invalid syntax',
  ),
  {
    args: ["kill", "made", "run1"],
    code: 125,
    says: "can only kill running containers.",
    out: "list",
  },
  { args: ["kill", "-a"], code: 0, out: "list" },
  { args: ["start", "--filter", "name=made"], code: 0, out: "list" },
  { args: ["stop", "-l"], code: 0, out: "list" },
  {
    args: ["rm", "-f", "--filter", "name=do"],
    code: 0,
    out: "list",
  },
  {
    args: ["rm", "run1", "missing"],
    code: 1,
    says: 'no container with name or ID "missing" found',
  },
  { args: ["rm", "-f", "-t", "0", "-a"], code: 0, out: "set" },
  { args: ["kill", "-a"], code: 0, out: "list" },
  { args: ["ps", "-aq"], code: 0, out: "list" },
];

/** Volumes: ls filters, rm --all, prune with and without its question. */
const VOLUMES: Step[] = [
  { args: ["volume", "create", "--label", "k=v", "v2"], code: 0 },
  { args: ["volume", "create", "v3"], code: 0 },
  ...listings([
    "name=v",
    "name=^v[23]",
    "label=k",
    "label=k=v",
    "driver=local",
    "driver=x",
    "scope=local",
    "dangling=true",
    "dangling=false",
    "until=1h",
  ], (f) => ["volume", "ls", "-q", "--filter", f]),
  {
    args: ["volume", "ls", "--noheading", "--format", "{{.Name}}"],
    code: 0,
    out: "list",
  },
  fails(
    ["volume", "ls", "--filter", "bogus=1"],
    '"bogus" is an invalid volume filter',
  ),
  fails(
    ["volume", "ls", "--filter", "name"],
    "filter input must be in the form of filter=value: name is invalid",
  ),
  fails(
    ["volume", "ls", "--filter", "dangling=maybe"],
    '"maybe" is not a valid value for the "dangling" filter - must be true or false',
  ),
  fails(
    ["volume", "rm", "-a", "x"],
    "choose either one or more volumes or all",
  ),
  { args: ["volume", "prune"], code: 125, says: "EOF", out: "list" },
  { args: ["volume", "prune"], code: 0, stdin: "n\n", out: "list" },
  {
    args: ["volume", "prune", "--filter", "label=k"],
    code: 0,
    stdin: "y\n",
    out: "list",
  },
  { args: ["volume", "prune", "-f", "--filter", "bogus=1"], code: 125 },
  { args: ["volume", "rm", "-a"], code: 0, out: "set" },
  { args: ["volume", "prune"], code: 0, out: "list" },
  { args: ["container", "prune"], code: 0, stdin: "n\n", out: "list" },
  { args: ["container", "prune"], code: 0, stdin: "y\n", out: "list" },
  fails(
    ["container", "prune", "-f", "--filter", "name=x"],
    "name is an invalid filter",
  ),
  { args: ["image", "prune"], code: 0, stdin: "n\n", out: "list" },
  { args: ["image", "prune", "-a"], code: 0, stdin: "\n", out: "list" },
];

/** Images: filters and sorting (the image is imported from a tar). */
const IMAGES: Step[] = [
  ...listings([
    "reference=bb",
    "reference=bb:1",
    "reference=*/bb*",
    "reference=localhost/bb",
    "reference=nothing",
    "dangling=true",
    "dangling=false",
    "readonly=false",
    "intermediate=false",
    "label=x",
    "id=abc",
    "until=1h",
  ], (f) => ["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f]),
  {
    args: ["images", "--format", "{{.Tag}}", "--sort", "tag"],
    code: 0,
    out: "list",
  },
  { args: ["images", "-a", "-q", "--noheading"], code: 0, out: "count" },
  { args: ["images", "--noheading"], code: 0, out: "count" },
  {
    args: ["images", "-a", "-q", "--filter", "intermediate=true"],
    code: 0,
    out: "count",
  },
  fails(
    ["images", "--filter", "intermediate=true"],
    'specifying "intermediate" filter more than once with different values is not supported',
  ),
  fails(
    ["images", "--sort", "bogus"], // Podman lists the keys in Go's random map order.
    '"bogus" is not a valid field for sorting. Choose from: ',
  ),
  fails(["images", "--filter", "bogus=1"], 'unsupported image filter "bogus"'),
  fails(
    ["images", "--filter", "digest=sha256:abc"],
    'unsupported image filter "digest"',
  ),
  fails(
    ["images", "--filter", "dangling=maybe"],
    'strconv.ParseBool: parsing "maybe": invalid syntax',
  ),
  fails(
    ["images", "--filter", "before=missing"],
    'could not find local image for filter filter "before"="missing": missing: image not known',
  ),
];

/** rm --depend: a container sharing another's network goes first. */
const DEPEND: Step[] = [
  {
    args: ["rm", "--depend", "base"],
    code: 2,
    says: "cannot be removed without force",
    out: "list",
  },
  { args: ["rm", "-f", "-t", "0", "--depend", "base"], code: 0, out: "list" },
  { args: ["ps", "-aq"], code: 0, out: "list" },
];

/** stdout with each engine's ids (full or short) read as the names. */
function byName(text: string, ids: Map<string, string>): string[] {
  let t = text;
  for (const [id, name] of ids) {
    t = t.replaceAll(id, name).replaceAll(id.slice(0, 12), name);
  }
  return t.split("\n").filter(Boolean);
}

async function idsOf(run: Runner): Promise<Map<string, string>> {
  const r = await run([
    "ps",
    "-a",
    "--no-trunc",
    "--format",
    "{{.ID}} {{.Names}}",
  ]);
  return new Map(
    r.stdout.split("\n").filter(Boolean).map((l) =>
      l.split(" ") as [string, string]
    ),
  );
}

/** Runs `steps` on both engines, one step at a time, and compares. */
async function compare(engines: Record<string, Runner>, steps: Step[]) {
  const ids: Record<string, Map<string, string>> = {};
  for (const [name, run] of Object.entries(engines)) {
    ids[name] = await idsOf(run);
  }
  for (const s of steps) {
    const outs: Record<string, string[]> = {};
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(s.args, s.stdin);
      const what = `${name} ${s.args.join(" ")}: ${r.stderr}`;
      assertEquals(r.code, s.code, what);
      if (s.says !== undefined) assertStringIncludes(r.stderr, s.says, what);
      outs[name] = byName(r.stdout, ids[name]);
      if (s.out === "set") outs[name].sort();
      if (s.out === "count") outs[name] = [String(outs[name].length)];
    }
    if (s.out) {
      assertEquals(outs.ptd, outs.podman, `stdout of ${s.args.join(" ")}`);
    }
  }
}

Deno.test("bulk flags, filters, sorting and prunes: as Podman", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["sleep", "true"]);
    const tar = `${sb.dir}/bb.tar`;
    const t = new Deno.Command("tar", { args: ["-C", root, "-cf", tar, "."] })
      .outputSync();
    assertEquals(t.code, 0);
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      for (const [name, run] of Object.entries(engines)) {
        for (
          const args of [
            ["import", tar, "localhost/bb:1"],
            ["tag", "localhost/bb:1", "localhost/bb:latest"],
            [
              "run",
              "-d",
              "--name",
              "run1",
              "-v",
              "vol:/tmp",
              "--rootfs",
              root,
              "sleep",
              "1000",
            ],
            [
              "create",
              "--name",
              "made",
              "--label",
              "a=b",
              "--rootfs",
              root,
              "true",
            ],
            ["run", "--name", "done", "--rootfs", root, "true"],
            ["create", "--name", "fromimg", "localhost/bb:1", "true"],
          ]
        ) {
          const r = await run(args);
          assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
        }
      }
      await compare(engines, [...LISTING, ...IMAGES, ...BULK, ...VOLUMES]);
      for (const run of Object.values(engines)) {
        await run([
          "run",
          "-d",
          "--name",
          "base",
          "--rootfs",
          root,
          "sleep",
          "1000",
        ]);
        await run([
          "create",
          "--name",
          "dep",
          "--network",
          "container:base",
          "--rootfs",
          root,
          "true",
        ]);
      }
      await compare(engines, DEPEND);
    });
  });
});
