/**
 * Issue 15's log drivers and terminal, rootless, the CLI from source: what
 * each driver writes `logs` reads back; rotation under a flood keeps the
 * newest output; `logs` of several containers as Podman prints them; and
 * `run -it` on a real terminal (tmux) gets a pty of its own devpts.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  busyboxRoot,
  ok,
  ptd,
  REPO,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";
import { bothEngines, hasPodman, sideBySide } from "../podman.ts";

const OUT_ERR = ["sh", "-c", "echo out; echo err >&2"];

async function inspect(sb: Sandbox, ref: string, format: string) {
  return ok(await ptd(sb, ["inspect", "--format", format, ref]));
}

/** Runs a container to its end with `opts`; returns its log file. */
async function logged(sb: Sandbox, name: string, opts: string[]) {
  ok(
    await ptd(sb, [
      "run",
      "--name",
      name,
      ...opts,
      "--rootfs",
      "/",
      ...OUT_ERR,
    ]),
  );
  const logs = await ptd(sb, ["logs", name]);
  assertEquals([logs.code, logs.stdout, logs.stderr], [0, "out\n", "err\n"]);
  return await inspect(sb, name, "{{.HostConfig.LogConfig.Path}}");
}

Deno.test("each log driver writes what logs reads; passthrough, none, journald", async () => {
  await withSandbox(async (sb) => {
    const k8s = await logged(sb, "k8s", ["--log-driver", "k8s-file"]);
    for (const line of Deno.readTextFileSync(k8s).trimEnd().split("\n")) {
      assertMatch(line, /^\S+[+-]\d\d:\d\d (stdout F out|stderr F err)$/);
    }
    const json = await logged(sb, "json", ["--log-driver", "json-file"]);
    const recs = Deno.readTextFileSync(json).trimEnd().split("\n")
      .map((l) => JSON.parse(l));
    assertEquals(
      recs.map((r) => [r.log, r.stream]).sort(),
      [["err\n", "stderr"], ["out\n", "stdout"]],
    );
    assertMatch(recs[0].time, /^\d{4}-\d\d-\d\dT[\d:]+\.\d{9}Z$/);
    // path= puts the file elsewhere; tag= is shown.
    const own = await logged(sb, "own", [
      "--log-opt",
      `path=${sb.dir}/own.log`,
      "--log-opt",
      "tag=web",
    ]);
    assertEquals(own, `${sb.dir}/own.log`);
    assertEquals(
      await inspect(sb, "own", "{{.HostConfig.LogConfig.Tag}}"),
      "web",
    );
    // none: no file, and logs says why.
    ok(
      await ptd(sb, [
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "--rootfs",
        "/",
        ...OUT_ERR,
      ]),
    );
    const none = await ptd(sb, ["logs", "quiet"]);
    assertEquals(none.code, 125);
    assertMatch(none.stderr, /'none' log driver, cannot read logs/);
    assertEquals(
      await inspect(sb, "quiet", "{{.HostConfig.LogConfig.Path}}"),
      "",
    );
    // passthrough: the command writes to our own stdout and stderr.
    const pass = await ptd(sb, [
      "run",
      "--rm",
      "--log-driver",
      "passthrough",
      "--rootfs",
      "/",
      ...OUT_ERR,
    ]);
    assertEquals([pass.code, pass.stdout, pass.stderr], [0, "out\n", "err\n"]);
    const before = ok(await ptd(sb, ["ps", "-aq"]));
    for (
      const [args, says] of [
        [["-d", "--log-driver", "passthrough"], "cannot be used with --detach"],
        [["--log-driver", "journald"], "failed to initialize journal"],
        [["--log-driver", "syslog"], "invalid log driver"],
        [["--log-opt", "max-size=lots"], "invalid size: 'lots'"],
        [["--log-opt", "path=/nowhere/x.log"], "/nowhere does not exist"],
      ] as const
    ) {
      const r = await ptd(sb, ["run", ...args, "--rootfs", "/", "true"]);
      assertEquals(r.code, 125, r.stderr);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assertMatch(r.stderr, new RegExp(says));
    }
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), before);
  });
});

Deno.test("containers.conf log_driver sets the default driver", async () => {
  await withSandbox(async (sb) => {
    const conf = `${sb.dir}/containers.conf`;
    Deno.writeTextFileSync(conf, '[containers]\nlog_driver = "json-file"\n');
    const env = { CONTAINERS_CONF: conf };
    ok(
      await ptd(sb, ["run", "--name", "c", "--rootfs", "/", ...OUT_ERR], {
        env,
      }),
    );
    assertEquals(
      await inspect(sb, "c", "{{.HostConfig.LogConfig.Type}}"),
      "json-file",
    );
    const path = await inspect(sb, "c", "{{.HostConfig.LogConfig.Path}}");
    assertEquals(
      JSON.parse(Deno.readTextFileSync(path).split("\n")[0]).stream.length > 0,
      true,
    );
    assertEquals((await ptd(sb, ["logs", "c"])).stdout, "out\n");
  });
});

Deno.test("50 MB through --log-opt max-size=1m: under the limit, the newest megabyte kept", async () => {
  await withSandbox(async (sb) => {
    // 700000 numbered lines of 72 bytes: 50.4 MB.
    const fill = "x".repeat(62);
    ok(
      await ptd(sb, [
        "run",
        "-d",
        "--name",
        "flood",
        "--log-opt",
        "max-size=1m",
        "--rootfs",
        "/",
        "seq",
        "-f",
        `%09g ${fill}`,
        "1",
        "700000",
      ]),
    );
    assertEquals(ok(await ptd(sb, ["wait", "flood"])), "0");
    const log = await inspect(sb, "flood", "{{.HostConfig.LogConfig.Path}}");
    const live = Deno.statSync(log).size, old = Deno.statSync(`${log}.1`).size;
    assert(live <= 1_000_000 && old <= 1_000_000, `${live} ${old}`);
    assert(live + old >= 1_000_000, `${live} + ${old} bytes kept`);
    assertEquals(
      [...Deno.readDirSync(log.replace(/\/[^/]*$/, ""))].filter((e) =>
        e.name.startsWith("ctr.log")
      ).length,
      2,
    );
    const lines = (await ptd(sb, ["logs", "flood"])).stdout.trimEnd().split(
      "\n",
    );
    // An unbroken run of the newest lines, as many as the files hold.
    const first = Number(lines[0].split(" ")[0]);
    lines.forEach((l, i) =>
      assertEquals(l, `${String(first + i).padStart(9, "0")} ${fill}`)
    );
    assertEquals(first + lines.length - 1, 700000);
    const recordSize = (live + old) / lines.length;
    assert(lines.length * recordSize >= 1_000_000, `${lines.length} lines`);
  });
});

Deno.test(
  "logs of several containers, --names, --tail, --since/--until, -t: as Podman",
  {
    ignore: !hasPodman(),
  },
  async () => {
    await withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, ["printf", "sleep"]);
      const engines = bothEngines(sb);
      await sideBySide(sb, engines, async () => {
        const out: Record<string, string[]> = { podman: [], ptd: [] };
        const past = String(Math.floor(Date.now() / 1000) - 3600);
        for (const [name, run] of Object.entries(engines)) {
          for (
            const [c, script] of [
              [
                "a",
                "echo a1; sleep 0.2; echo a2 >&2; sleep 0.2; printf part; sleep 1.5; echo a3",
              ],
              ["b", "echo b1; echo b2"],
            ]
          ) {
            const r = await run([
              "run",
              "--name",
              c,
              "--log-driver",
              "k8s-file",
              "--rootfs",
              root,
              "sh",
              "-c",
              script,
            ]);
            assertEquals(r.code, 0, `${name}: ${r.stderr}`);
          }
          for (
            const args of [
              ["a"],
              ["-n", "a", "b"],
              ["--tail", "1", "a"],
              ["--tail", "2", "-n", "a", "b"],
              ["--tail", "3", "a"],
              ["--tail", "0", "a"],
              ["--since", "2999-01-01T00:00:00Z", "a"],
              ["--since", "10m", "b"],
              ["--until", past, "b"],
              ["-f", "-n", "b"],
              ["a", "nosuch"],
              ["-l"],
              ["--since", "soon", "a"],
            ]
          ) {
            const r = await run(["logs", ...args]);
            // Podman reads several containers at once: compare the lines.
            // A partial line ("part") runs into whichever line comes next,
            // its own container's or, in Podman's concurrent reads, the
            // other's: each prefix starts a line of its own here.
            const several = args.includes("a") && args.includes("b");
            const unglued = (s: string) =>
              several ? s.replace(/(\S)([ab]) (?=\S)/g, "$1\n$2 ") : s;
            const sorted = (s: string) =>
              unglued(s).split("\n").sort().join("\n");
            out[name].push(
              `${args.join(" ")}: ${r.code} ${sorted(r.stdout)} | ${
                sorted(r.stderr.replace(/\nSee.*/s, ""))
              }`,
            );
          }
          const t = await run(["logs", "-t", "-n", "a", "b"]);
          for (const line of t.stdout.trimEnd().split("\n")) {
            assertMatch(
              line,
              /^[ab] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) /,
              name,
            );
          }
        }
        assertEquals(out.ptd, out.podman);
      });
    });
  },
);

/** A detached tmux pane of 100x30 running one command line at a time. */
function tmuxPane(sb: Sandbox) {
  const sock = `${sb.dir}/tmux.sock`;
  const tmux = async (...args: string[]) =>
    new TextDecoder().decode(
      (await new Deno.Command("tmux", {
        args: ["-S", sock, "-f", "/dev/null", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output()).stdout,
    );
  const env = Object.entries(sb.env).map(([k, v]) => `${k}=${v}`).join(" ");
  const self =
    `${Deno.execPath()} run -A --quiet --config=${REPO}/deno.json ${REPO}/main.ts`;
  let screen = "";
  return {
    /** Starts `cmd` (PTD stands for ptd); the pane then says EXIT=code. */
    start: (cmd: string) =>
      tmux(
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "30",
        `env ${env} ${cmd.replaceAll("PTD", self)}; echo EXIT=$?; sleep 60`,
      ),
    /** Types `keys` (tmux's key names). */
    keys: (...keys: string[]) => tmux("send-keys", ...keys),
    /** The screen once it matches `re`. */
    async until(re: RegExp) {
      await until(async () => {
        screen = await tmux("capture-pane", "-p", "-J");
        return re.test(screen);
      }, 60_000).catch(() => {
        throw new Error(`no ${re} on the screen:\n${screen}`);
      });
      return screen;
    },
    kill: () => tmux("kill-server"),
  };
}

Deno.test("run -it in tmux: tty is a /dev/pts of its own, stty size is the pane's, /dev/console, TERM", async () => {
  await withSandbox(async (sb) => {
    const pane = tmuxPane(sb);
    try {
      await pane.start(
        `PTD run --rm -it --rootfs / sh -c 'tty; stty size; ls -l /dev/console; echo TERM=$TERM'`,
      );
      const screen = await pane.until(/EXIT=\d+/);
      assertMatch(screen, /^\/dev\/pts\/\d+\s*$/m);
      assertMatch(screen, /^30 100\s*$/m);
      assertMatch(screen, /^c.* \/dev\/console\s*$/m);
      assertMatch(screen, /^TERM=xterm\s*$/m);
      assertMatch(screen, /EXIT=0/);
      await pane.kill();
      // exec -t: a pty of the container's devpts too, on a root the CLI
      // can reach (an overlay of a directory; not FUSE).
      const root = busyboxRoot(sb.dir, ["tty", "stty", "sleep"]);
      ok(
        await ptd(sb, [
          "run",
          "-d",
          "--name",
          "bb",
          "--rootfs",
          root,
          "sleep",
          "100",
        ]),
      );
      await pane.start(`PTD exec -it bb sh -c 'tty; stty size'`);
      const exec = await pane.until(/EXIT=\d+/);
      assertMatch(exec, /^\/dev\/pts\/\d+\s*$/m);
      assertMatch(exec, /^30 100\s*$/m);
    } finally {
      await pane.kill();
      await ptd(sb, ["rm", "-f", "-t", "0", "bb"]);
    }
  });
});

Deno.test("--detach-keys leave run -it and attach, the container running; piped input to -it", async () => {
  await withSandbox(async (sb) => {
    const pane = tmuxPane(sb);
    try {
      await pane.start(
        `PTD run -it --name held --detach-keys ctrl-a,d --rootfs / sh`,
      );
      await pane.until(/# $/m);
      await pane.keys("C-a", "d");
      await pane.until(/EXIT=0/);
      assertEquals(
        await inspect(sb, "held", "{{.State.Status}}"),
        "running",
      );
      await pane.kill();
      await pane.start(`PTD attach --detach-keys ctrl-x held`);
      await pane.keys("echo again-$((1+1))", "Enter");
      await pane.until(/^again-2/m);
      await pane.keys("C-x");
      await pane.until(/EXIT=0/);
      assertEquals(
        await inspect(sb, "held", "{{.State.Status}}"),
        "running",
      );
    } finally {
      await pane.kill();
      await ptd(sb, ["rm", "-f", "-t", "0", "held"]);
    }
    // Piped into -it: Podman's warning, then the shell reads the pipe.
    const piped = await ptd(
      sb,
      ["run", "--rm", "-i", "-t", "--rootfs", "/", "sh"],
      { stdin: "echo piped-$((6*7))\nexit 4\n" },
    );
    assertEquals(piped.code, 4, piped.stderr);
    assertMatch(piped.stdout, /piped-42/);
    assertMatch(piped.stderr, /The input device is not a TTY/);
    // Input that never stops: the container's output is read on while
    // its input waits (a write that blocked the monitor's loop deadlocked
    // both), and the input still unread when it ends resets the CLI's
    // socket after the exit code came ("Connection reset by peer").
    const self =
      `${Deno.execPath()} run -A --quiet --config=${REPO}/deno.json ${REPO}/main.ts`;
    for (let i = 0; i < 3; i++) {
      const flood = await new Deno.Command("sh", {
        args: [
          "-c",
          `(echo 'exit 3'; yes) | timeout 30 ${self} run --rm -i -t --rootfs / sh`,
        ],
        env: sb.env,
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(flood.code, 3, new TextDecoder().decode(flood.stderr));
    }
  });
});

Deno.test("exec -it left by its detach keys: the command goes on, as Podman's exec session", async () => {
  await withSandbox(async (sb) => {
    const pane = tmuxPane(sb);
    try {
      ok(
        await ptd(sb, [
          "run",
          "-d",
          "--name",
          "host",
          "--rootfs",
          "/",
          "sleep",
          "1000",
        ]),
      );
      await pane.start(
        `PTD exec -it --detach-keys ctrl-a,d host sh -c 'echo ready; sleep 4242'`,
      );
      await pane.until(/^ready/m);
      await pane.keys("C-a", "d");
      await pane.until(/EXIT=0/);
      await pane.kill();
      // A hang-up would have ended it by now.
      await new Promise((ok) => setTimeout(ok, 500));
      const top = await ptd(sb, ["top", "host"]);
      assertEquals(top.code, 0, top.stderr);
      assertMatch(top.stdout, /sleep 4242/);
    } finally {
      await pane.kill();
      await ptd(sb, ["rm", "-f", "-t", "0", "host"]);
    }
  });
});
