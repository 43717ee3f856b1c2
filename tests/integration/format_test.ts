/**
 * The same --format lines against Podman and ptd, on the same objects: the
 * busybox image (saved by ptd, loaded by Podman: one image id), a running
 * container with a label and a named volume, a created and an exited one
 * on a --rootfs, and a labelled volume. Outputs are compared after what
 * cannot agree is masked (ids, times, sizes, pids, store paths) and lines
 * are sorted (the listing order is another matter); JSON is compared by
 * shape: the same keys with the same JSON types.
 */
import { assertEquals } from "../assert.ts";
import { busyboxLayer } from "../fixtures.ts";
import {
  busyboxRoot,
  ptd,
  type Result,
  type Sandbox,
  withSandbox,
} from "../helpers.ts";
import { hasPodman, podman, stopPodmanPause } from "../podman.ts";

type Run = (args: string[]) => Promise<Result>;

/** Lines whose output must agree once masked. */
const TEXT: string[][] = [
  [
    "ps",
    "-a",
    "--format",
    "{{.Names}} {{.State}} {{.Status}} {{.Exited}} {{.ExitCode}} {{.Image}}",
  ],
  ["ps", "-a", "--format", "table {{.Names}} {{.Mounts}} {{.Labels}}"],
  [
    "ps",
    "-a",
    "--format",
    '{{.Labels.a}}|{{index .Labels "a"}}|{{json .Labels}}|{{len .Names}}|' +
    "{{.Command}}|{{.IsInfra}}|{{.Namespaces}}|{{.Networks}}|{{.Ports}}",
  ],
  [
    "ps",
    "-a",
    "--format",
    '{{if eq .State "Created"}}C{{else if .Exited}}E{{else}}R{{end}} ' +
    '{{upper .Names}} {{truncate .Names 2}} {{pad .Names 1 1}}|{{split .Names "n"}}',
  ],
  [
    "ps",
    "-a",
    "--format",
    "{{.ID}} {{.CreatedAt}} {{.CreatedHuman}} {{.RunningFor}} " +
    "{{.StartedAt}} {{.ExitedAt}} {{.Pid}}",
  ],
  ["ps", "-a", "--format", "table {{.ID}}\\t{{.Names}}\\t{{.Pod}}"],
  ["ps", "-a", "--format", "table {{.Names}}\\n"],
  ["ps", "-a", "--format", ""],
  ["ps", "-a"],
  ["ps", "-a", "--format", "{{.Foo}}"],
  ["ps", "-a", "--format", "{{range .Bad}}"],
  [
    "images",
    "--format",
    "{{.Repository}} {{.Tag}} {{.ID}} {{.Size}} {{.Containers}} {{.Labels}} " +
    "{{.Dangling}} {{.Digest}} {{.Names}}",
  ],
  [
    "images",
    "--format",
    "table {{.Repository}} {{.CreatedSince}} {{.CreatedAt}}",
  ],
  ["images"],
  ["images", "--format", "{{.Bogus}}"],
  [
    "history",
    "--format",
    "{{.ID}} {{.Created}} {{.CreatedBy}} {{.Size}} {{.Tags}} {{.CreatedSince}} {{.CreatedAt}}",
    "bb:test",
  ],
  ["history", "--format", "table {{.ID}} {{.Comment}}", "bb:test"],
  ["history", "bb:test"],
  [
    "volume",
    "ls",
    "--format",
    "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Options}} {{.MountCount}} {{.Anonymous}}",
  ],
  ["volume", "ls", "--format", "table {{.Name}} {{.Driver}} {{.Labels}}"],
  ["volume", "ls"],
  [
    "volume",
    "inspect",
    "--format",
    "{{.Name}} {{.Labels}} {{.Scope}} {{.CreatedAt}} {{.Options}}",
    "lab",
  ],
  ["volume", "inspect", "--format", "{{.Bogus}}", "lab"],
  [
    "inspect",
    "--format",
    "{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Labels}} " +
    "{{.HostConfig.UsernsMode}}|{{.NetworkSettings.Networks}} {{.RestartCount}} " +
    "{{.Config.Cmd}} {{.Path}} {{.Args}} {{.ImageName}} {{.Image}} " +
    "{{.HostConfig.Dns}} {{.HostConfig.Tmpfs}} {{.HostConfig.PidMode}} " +
    "{{.HostConfig.UTSMode}} {{.HostConfig.ExtraHosts}} {{.HostConfig.SecurityOpt}}",
    "run1",
  ],
  [
    "inspect",
    "--format",
    "{{.ImageName}}|{{.Config.StopSignal}}|{{.HostConfig.NetworkMode}}|" +
    "{{.State.ExitCode}}|{{.State.FinishedAt}}|{{.Created}}|{{.State.Pid}}|" +
    "{{.Path}} {{.Args}}",
    "made",
    "done",
  ],
  [
    "inspect",
    "--format",
    "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}",
    "run1",
  ],
  ["inspect", "--format", "{{json .Config.Labels}}", "run1", "made"],
  ["inspect", "--format", "{{.Bogus}}", "run1"],
  [
    "image",
    "inspect",
    "--format",
    "{{.Id}} {{.RepoTags}} {{.Labels}} {{.Os}} {{len .RootFS.Layers}} " +
    "{{.Config.Labels}} {{.Config.Cmd}} {{.Config.Volumes}} {{.Config.User}}|",
    "bb:test",
  ],
];

/** Lines that print JSON: the shapes must agree. */
const JSON_LINES: string[][] = [
  ["ps", "-a", "--format", "json"],
  ["ps", "--format", "{{json .}}"],
  ["ps", "--format", "json", "--filter", "name=nothing"],
  ["images", "--format", "json"],
  ["history", "--format", "json", "bb:test"],
  ["volume", "ls", "--format", "json"],
  ["volume", "inspect", "lab"],
  ["inspect", "run1"],
  ["inspect", "--format", "", "made"],
  ["image", "inspect", "bb:test"],
];

/** What two engines cannot agree on, masked. */
function mask(text: string, sb: Sandbox): string {
  return text
    .replaceAll(sb.dir, "<DIR>")
    .replace(/\b[0-9a-f]{64}\b/g, "<ID>")
    .replace(/\b[0-9a-f]{12}\b/g, "<ID>")
    .replace(
      /\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( \+0000 UTC|Z)/g,
      "<TIME>",
    )
    .replace(
      /(Less than a second|About an? \w+|\d+ \w+?s?)( ago)/g,
      "<AGO>$2",
    )
    .replace(/\b\d+(\.\d+)? [kMG]?B\b/g, "<SIZE>")
    .replace(/\b1[78]\d{8}\b/g, "<UNIX>")
    .replace(/ [1-9]\d{2,6}$/gm, " <PID>")
    .replace(/ {2,}/g, "  ")
    .split("\n").sort().join("\n");
}

type Json = unknown;

/** The JSON type of `v` as Go's encoder would write it. */
function jsonType(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/**
 * Differences between the shape of ptd's JSON and Podman's: every key ptd
 * writes must be Podman's with the same type; with `exact`, no key of
 * Podman's may be missing either.
 */
function shapeDiff(
  ours: Json,
  theirs: Json,
  path: string,
  exact: boolean,
): string[] {
  // Podman's peer stores with vfs (no driver data), ptd here with overlay.
  if (path.endsWith(".GraphDriver.Data")) return [];
  if (jsonType(ours) !== jsonType(theirs)) {
    return [`${path}: ${jsonType(ours)}, podman ${jsonType(theirs)}`];
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    // Lists of objects are compared in the order of their names (ps and
    // Podman list in different orders), lists of values by their first.
    const key = (x: Json) => {
      const o = x as { Names?: Json; Name?: Json } | null;
      return JSON.stringify(o?.Names ?? o?.Name ?? "");
    };
    const [a, b] = [ours, theirs].map((l) =>
      [...l].sort((x, y) => key(x).localeCompare(key(y)))
    );
    if (path === "" && a.length !== b.length) {
      return [`${a.length} items, podman ${b.length}`];
    }
    return a.slice(0, b.length).flatMap((o, i) =>
      shapeDiff(o, b[i], `${path}[${i}]`, exact)
    );
  }
  if (typeof ours !== "object" || ours === null) return [];
  const a = ours as Record<string, Json>, b = theirs as Record<string, Json>;
  // Maps of user data (labels) have keys of their own.
  if (/\.(Labels|Annotations|Options|Ports|PortBindings)$/.test(path)) {
    return [];
  }
  const out: string[] = [];
  for (const k of Object.keys(a)) {
    if (!(k in b)) out.push(`${path}.${k}: not in podman's`);
    else out.push(...shapeDiff(a[k], b[k], `${path}.${k}`, exact));
  }
  if (exact) {
    for (const k of Object.keys(b)) {
      if (!(k in a)) out.push(`${path}.${k}: missing`);
    }
  }
  return out;
}

function runners(sb: Sandbox): Record<"podman" | "ptd", Run> {
  const dec = new TextDecoder();
  return {
    podman: async (args) => {
      const out = await podman(sb, args);
      return {
        code: out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
      };
    },
    ptd: (args) => ptd(sb, args),
  };
}

async function setUp(sb: Sandbox, engines: Record<string, Run>) {
  const tar = await busyboxLayer(`${sb.dir}/busybox.tar`);
  const root = busyboxRoot(sb.dir, ["true"]);
  const must = async (name: string, r: Promise<Result>) => {
    const out = await r;
    assertEquals(out.code, 0, `${name}: ${out.stderr}`);
  };
  await must("import", ptd(sb, ["import", tar, "bb:test"]));
  const saved = `${sb.dir}/bb.tar`;
  await must("save", ptd(sb, ["save", "-o", saved, "bb:test"]));
  await must("podman load", engines.podman(["load", "-i", saved]));
  for (const [name, run] of Object.entries(engines)) {
    for (
      const args of [
        ["volume", "create", "--label", "x=y", "lab"],
        ["run", "--name", "done", "--rootfs", root, "true"],
        ["create", "--name", "made", "--rootfs", root, "true"],
        [
          "run",
          "-d",
          "--name",
          "run1",
          "-l",
          "a=b",
          "-v",
          "vol:/tmp",
          "bb:test",
          "sleep",
          "1000",
        ],
      ]
    ) await must(`${name} ${args.join(" ")}`, run(args));
  }
}

Deno.test("--format lines print what Podman prints", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = runners(sb);
    try {
      await setUp(sb, engines);
      const failures: string[] = [];
      for (const args of TEXT) {
        const [p, o] = [await engines.podman(args), await engines.ptd(args)];
        const what = `${args.join(" ")}`;
        if (p.code !== o.code) {
          failures.push(
            `${what}: exit ${o.code}, podman ${p.code}: ${o.stderr}`,
          );
        }
        const [ps, os] = [mask(p.stdout, sb), mask(o.stdout, sb)];
        if (ps !== os) failures.push(`${what}:\nptd:\n${os}\npodman:\n${ps}`);
        const err = (r: Result) => mask(r.stderr.replace(/^Error: /, ""), sb);
        if (p.code !== 0 && err(p) !== err(o)) {
          failures.push(`${what}: ptd says ${o.stderr}podman ${p.stderr}`);
        }
      }
      for (const args of JSON_LINES) {
        const [p, o] = [await engines.podman(args), await engines.ptd(args)];
        const what = args.join(" ");
        assertEquals(o.code, 0, `${what}: ${o.stderr}`);
        const exact = !args.includes("inspect");
        const diff = shapeDiff(
          JSON.parse(o.stdout),
          JSON.parse(p.stdout),
          "",
          exact,
        );
        if (diff.length) failures.push(`${what}: ${diff.join(", ")}`);
      }
      assertEquals(failures, []);
    } finally {
      await engines.ptd(["rm", "-f", "run1"]);
      await engines.podman(["rm", "-f", "-a"]);
      stopPodmanPause(sb);
    }
  });
});
