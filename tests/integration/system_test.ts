/**
 * Global options and the system commands against Podman: exit codes, the
 * errors scripts match on, and the key structure of version and info.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { ok, ptd, type Sandbox, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, podman, stopPodmanPause } from "../podman.ts";
import { busyboxLayer } from "../fixtures.ts";

const text = new TextDecoder();

/** Podman without the sandbox's store flags (a remote request refuses them). */
async function bare(sb: Sandbox, args: string[]) {
  const run = `${sb.dir}/podman-run`;
  Deno.mkdirSync(run, { recursive: true, mode: 0o700 });
  const out = await new Deno.Command("podman", {
    args,
    env: { XDG_RUNTIME_DIR: run },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: text.decode(out.stderr) };
}

async function both(sb: Sandbox, args: string[]) {
  const p = await podman(sb, args);
  return {
    podman: {
      code: p.code,
      stdout: text.decode(p.stdout),
      stderr: text.decode(p.stderr),
    },
    ptd: await ptd(sb, args),
  };
}

/** Every key path of a JSON value, "a.b.c". */
function paths(v: unknown, prefix = ""): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) =>
    paths(x, prefix ? `${prefix}.${k}` : k)
  );
}

Deno.test({
  name: "system: exists, inspect --type and global option errors as Podman's",
  ignore: !hasPodman(),
  fn: () =>
    withSandbox(async (sb) => {
      try {
        for (const args of [["volume", "create", "vol"]]) {
          const r = await both(sb, args);
          assertEquals([r.ptd.code, r.podman.code], [0, 0]);
        }
        const cases: [string[], number, string?][] = [
          [["container", "exists", "missing"], 1],
          [
            ["container", "diff", "missing"],
            125,
            "missing not found: container not known",
          ],
          [
            ["image", "diff", "missing"],
            125,
            "missing not found: missing: image not known",
          ],
          [["image", "exists", "missing"], 1],
          [["volume", "exists", "missing"], 1],
          [["volume", "exists", "vol"], 0],
          [
            ["inspect", "--type", "bogus", "x"],
            125,
            'invalid type "bogus": must be "image", "container", "pod", "network", "volume", or "all"',
          ],
          [
            ["inspect", "--type", "volume", "missing"],
            125,
            "inspecting object",
          ],
          [["inspect", "missing"], 125, 'no such object: "missing"'],
          [
            ["--log-level", "bogus", "ps"],
            1,
            'Log Level "bogus" is not supported',
          ],
          [
            ["--events-backend", "x", "ps"],
            125,
            'configuring runtime: "x" is not a valid events backend',
          ],
          [
            ["--cgroup-manager", "x", "ps"],
            125,
            "cgroup manager must be one of cgroupfs and systemd",
          ],
          [
            ["--runtime", "nosuch", "ps"],
            125,
            'default OCI runtime "nosuch" not found: invalid argument',
          ],
          [[
            "--runtime",
            "runc",
            "--conmon",
            "/nonexistent",
            "--hooks-dir",
            "/nonexistent",
            "--runtime-flag",
            "debug",
            "volume",
            "exists",
            "vol",
          ], 0],
        ];
        for (const [args, code, says] of cases) {
          const r = await both(sb, args);
          const line = args.join(" ");
          assertEquals([r.ptd.code, r.podman.code], [code, code], line);
          if (code <= 1 && !says) {
            assertEquals([r.ptd.stdout, r.ptd.stderr], ["", ""], line);
          }
          if (says) {
            assertStringIncludes(r.podman.stderr, says, line);
            assertStringIncludes(r.ptd.stderr, says, line);
          }
        }
        const conn = ["--connection", "foo", "ps"];
        const p = await bare(sb, conn), t = await ptd(sb, conn);
        assertEquals([t.code, p.code], [125, 125]);
        const says = '"foo" service destination not found';
        assertStringIncludes(p.stderr, says);
        assertStringIncludes(t.stderr, says);
        for (const args of [["--remote", "ps"], ["--url", "unix:///x", "ps"]]) {
          const p = await bare(sb, args), t = await ptd(sb, args);
          assertEquals([t.code, p.code], [125, 125], args.join(" "));
          assertStringIncludes(t.stderr, "unable to connect to Podman socket");
        }
      } finally {
        stopPodmanPause(sb);
      }
    }),
});

Deno.test({
  name: "system: version and info have Podman's structure",
  ignore: !hasPodman(),
  fn: () =>
    withSandbox(async (sb) => {
      try {
        const v = await both(sb, ["version", "--format", "json"]);
        assertEquals(
          paths(JSON.parse(v.ptd.stdout)).sort(),
          paths(JSON.parse(v.podman.stdout)).sort(),
        );
        const tmpl = ["version", "--format", "{{.Client.OsArch}}"];
        const o = await both(sb, tmpl);
        assertEquals(o.ptd.stdout, o.podman.stdout);
        const plain = await both(sb, ["version"]);
        const labels = (s: string) => s.split("\n").map((l) => l.split(":")[0]);
        assertEquals(labels(plain.ptd.stdout), labels(plain.podman.stdout));
        const i = await both(sb, ["info", "--format", "json"]);
        const mine = new Set(paths(JSON.parse(i.ptd.stdout)));
        const theirs = paths(JSON.parse(i.podman.stdout));
        for (
          const key of [
            "host.arch",
            "host.os",
            "host.kernel",
            "host.hostname",
            "host.cpus",
            "host.memTotal",
            "host.security.rootless",
            "store.graphRoot",
            "store.runRoot",
            "store.graphDriverName",
            "store.containerStore.number",
            "store.containerStore.running",
            "store.imageStore.number",
            "store.volumePath",
            "version.Version",
            "version.APIVersion",
            "version.OsArch",
          ]
        ) {
          assert(theirs.includes(key), `podman has ${key}`);
          assert(mine.has(key), `ptd has ${key}`);
        }
        for (const key of mine) {
          if (key.startsWith("registries.")) continue;
          assert(
            theirs.includes(key) || theirs.some((k) => k.startsWith(`${key}.`)),
            `${key} is not one of Podman's`,
          );
        }
        const fields = "{{.Host.Arch}} {{.Store.ContainerStore.Number}}";
        const f = await both(sb, ["info", "--format", fields]);
        assertEquals(f.ptd.stdout, f.podman.stdout);
      } finally {
        stopPodmanPause(sb);
      }
    }),
});

Deno.test("system: --root and --runroot before the command choose the store", () =>
  withSandbox(async (sb) => {
    const root = `${sb.dir}/other`, run = `${sb.dir}/other-run`;
    const g = ["--root", root, "--runroot", run];
    ok(await ptd(sb, [...g, "volume", "create", "elsewhere"]));
    assertEquals(ok(await ptd(sb, [...g, "volume", "ls", "-q"])), "elsewhere");
    assertEquals(ok(await ptd(sb, ["volume", "ls", "-q"])), "");
    Deno.statSync(`${root}/volumes/elsewhere`);
    assertEquals(
      ok(await ptd(sb, [...g, "info", "--format", "{{.Store.GraphRoot}}"])),
      root,
    );
    // The fast path too (ps is parsed without commander).
    assertEquals((await ptd(sb, [...g, "ps", "-a"])).code, 0);
    const noout = await ptd(sb, ["--noout", ...g, "volume", "ls"]);
    assertEquals([noout.code, noout.stdout], [0, ""]);
    const unknown = await ptd(sb, ["--storage-driver", "zfs2", "ps"]);
    assertEquals(unknown.code, 125);
    assertStringIncludes(unknown.stderr, "zfs2");
    assertStringIncludes(unknown.stderr, "driver not supported");
    assertEquals(
      (await ptd(sb, ["--storage-driver", "overlay", "ps"])).code,
      0,
    );
    // The store is overlay now: Podman refuses to switch it.
    const vfs = await ptd(sb, ["--storage-driver", "vfs", "ps"]);
    assertEquals(vfs.code, 125);
    assertStringIncludes(vfs.stderr, "database configuration mismatch");
  }));

Deno.test("system: a command ptd lacks says so in one line, --help too", () =>
  withSandbox(async (sb) => {
    for (
      const args of [["machine", "--help"], ["manifest", "inspect"], [
        "auto-update",
        "--dry-run",
      ]]
    ) {
      const r = await ptd(sb, args);
      assertEquals([r.code, r.stdout], [125, ""], args.join(" "));
      assertEquals(r.stderr, `Error: ptd does not implement \`${args[0]}\`\n`);
    }
    const help = ok(await ptd(sb, ["--help"]));
    assertStringIncludes(help, "Display the Podman version information");
    assertStringIncludes(help, "Removes one or more images from local storage");
    assert(!/^\s+machine\b/m.test(help), "machine is not listed");
  }));

Deno.test("system: the container, image and volume spellings", () =>
  withSandbox(async (sb) => {
    ok(await ptd(sb, ["volume", "create", "v1"]));
    for (
      const args of [
        ["container", "ls", "-a"],
        ["container", "list"],
        ["container", "ps", "-q"],
        ["image", "ls"],
        ["image", "list"],
        ["container", "inspect", "--help"],
        ["image", "load", "--help"],
        ["image", "save", "--help"],
      ]
    ) assertEquals((await ptd(sb, args)).code, 0, args.join(" "));
    // A spelling runs the top-level command: same exit code, same error.
    for (
      const [verb, ...args] of [
        ["container", "export", "-o", `${sb.dir}/x.tar`, "missing"],
        ["image", "search", "--limit", "x", "busybox"],
      ]
    ) {
      const [spelled, top] = [
        await ptd(sb, [verb, ...args]),
        await ptd(sb, args),
      ];
      // The error alike; cobra's "See 'ptd image search --help'" under a
      // flag's error names the command as typed.
      const first = (text: string) => text.split("\n")[0];
      assertEquals(
        [spelled.code, first(spelled.stderr)],
        [top.code, first(top.stderr)],
        `${verb} ${args.join(" ")}`,
      );
      assert(top.stderr.startsWith("Error: "), top.stderr);
    }
    const vol = await ptd(sb, ["container", "inspect", "v1"]);
    assertEquals(vol.code, 125);
    const df = ok(await ptd(sb, ["system", "df"]));
    assertStringIncludes(df, "Local Volumes");
    ok(await ptd(sb, ["system", "prune", "-f", "--volumes"]));
    assertEquals((await ptd(sb, ["volume", "exists", "v1"])).code, 1);
    ok(await ptd(sb, ["volume", "create", "v2"]));
    ok(await ptd(sb, ["system", "reset", "-f"]));
    assertEquals((await ptd(sb, ["volume", "exists", "v2"])).code, 1);
  }));

Deno.test({
  name: "system: containers.conf init_path, base_hosts_file, volumes and " +
    "log_driver applied as Podman applies them",
  ignore: !hasPodman(),
  fn: () =>
    withSandbox(async (sb) => {
      const tar = await busyboxLayer(`${sb.dir}/bb.tar`);
      Deno.writeTextFileSync(`${sb.dir}/hosts`, "1.2.3.4 basehost\n");
      Deno.mkdirSync(`${sb.dir}/vol`);
      Deno.writeTextFileSync(`${sb.dir}/vol/f`, "volfile\n");
      /** Both engines under a containers.conf of `lines` ([containers]). */
      const under = (name: string, ...lines: string[]) => {
        const file = `${sb.dir}/${name}.conf`;
        Deno.writeTextFileSync(file, ["[containers]", ...lines, ""].join("\n"));
        return bothEngines(sb, { CONTAINERS_CONF: file });
      };
      const plain = bothEngines(sb);
      try {
        for (const run of Object.values(plain)) {
          assertEquals((await run(["import", tar, "bb"])).code, 0);
        }
        const same = async (
          engines: ReturnType<typeof bothEngines>,
          args: string[],
          check: (r: { code: number; stdout: string; stderr: string }) => void,
        ) => {
          const [p, t] = [await engines.podman(args), await engines.ptd(args)];
          assertEquals(t.code, p.code, `${args.join(" ")}: ${t.stderr}`);
          check(p);
          check(t);
          return [p, t];
        };
        const noInit = under("init", 'init_path = "/nonexistent/catatonit"');
        const [p, t] = await same(
          noInit,
          ["run", "--rm", "--init", "bb", "true"],
          (r) => assertEquals(r.code, 125),
        );
        assertEquals(t.stderr, p.stderr);
        assertStringIncludes(t.stderr, "stat /nonexistent/catatonit");
        await same(noInit, ["run", "--rm", "bb", "true"], (r) =>
          assertEquals(r.code, 0));

        const hosts = ["run", "--rm", "bb", "cat", "/etc/hosts"];
        await same(
          under("bh", `base_hosts_file = "${sb.dir}/hosts"`),
          hosts,
          (r) =>
            assertEquals(r.stdout.split("\n")[0], "1.2.3.4\tbasehost"),
        );
        await same(under("none", 'base_hosts_file = "none"'), hosts, (r) => {
          assertEquals(r.stdout.split("\n").slice(0, 2), [
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost",
          ]);
          assert(!r.stdout.includes("basehost"), r.stdout);
        });
        await same(
          under("gone", `base_hosts_file = "${sb.dir}/gone"`),
          hosts,
          (r) =>
            assertStringIncludes(
              r.stderr,
              `failed to create new hosts file: open ${sb.dir}/gone: no such file or directory`,
            ),
        );

        const vols = under("vols", `volumes = ["${sb.dir}/vol:/mnt:ro"]`);
        await same(vols, ["run", "--rm", "bb", "cat", "/mnt/f"], (r) =>
          assertEquals(r.stdout, "volfile\n"));
        await same(vols, ["run", "--rm", "bb", "touch", "/mnt/g"], (r) =>
          assert(r.code !== 0));
        await same(
          under("badvol", 'volumes = ["bad"]'),
          ["create", "bb", "true"],
          (r) =>
            assertEquals(r.code, 125),
        );

        const none = under("lognone", 'log_driver = "none"');
        await same(none, ["run", "--name", "ln", "bb", "echo", "hi"], (r) =>
          assertEquals(r.stdout, "hi\n"));
        const [pl, tl] = await same(none, ["logs", "ln"], (r) =>
          assertEquals(r.code, 125));
        assertEquals(tl.stderr, pl.stderr);
        await same(
          none,
          ["inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "ln"],
          (r) =>
            assertEquals(r.stdout, "none\n"),
        );
        const journal = under("journal", 'log_driver = "journald"');
        await same(journal, ["create", "bb", "true"], (r) =>
          assertStringIncludes(r.stderr, "failed to initialize journal"));
        const [pb, tb] = await same(
          under("bogus", 'log_driver = "bogus"'),
          ["create", "bb", "true"],
          (r) =>
            assertEquals(r.code, 125),
        );
        assertEquals(tb.stderr, pb.stderr);
      } finally {
        stopPodmanPause(sb);
      }
    }),
});
