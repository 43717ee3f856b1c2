/**
 * Issue 4's "done when", rootless, the CLI from source: detached runs owned
 * by a monitor, the lifecycle commands, and the truth after kill -9.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import {
  alive,
  ok,
  ptd,
  REPO,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";

async function runD(sb: Sandbox, ...args: string[]): Promise<string> {
  return ok(await ptd(sb, ["run", "-d", ...args]));
}

async function inspect(sb: Sandbox, ref: string, format: string) {
  return ok(await ptd(sb, ["inspect", "--format", format, ref]));
}

Deno.test("run -d prints the full id once running; ps shows it Up; the CLI's exit does not stop it", async () => {
  await withSandbox(async (sb) => {
    const id = await runD(sb, "--name", "web", "--rootfs", "/", "sleep", "100");
    assertMatch(id, /^[0-9a-f]{64}$/);
    const ps = ok(await ptd(sb, ["ps"]));
    const [header, row] = ps.split("\n");
    assertMatch(
      header,
      /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/,
    );
    assertMatch(
      row,
      new RegExp(`^${id.slice(0, 12)} .* sleep 100 .* Up .*web$`),
    );
    const pid = Number(await inspect(sb, "web", "{{.State.Pid}}"));
    assert(alive(pid));
    assertEquals(
      await inspect(sb, id.slice(0, 5), "{{.State.Status}} {{.State.Running}}"),
      "running true",
    );
  });
});

Deno.test("run -d fails with 127 and one line when the command is missing; --rm leaves nothing", async () => {
  await withSandbox(async (sb) => {
    const r = await ptd(sb, [
      "run",
      "-d",
      "--rm",
      "--rootfs",
      "/",
      "nosuchcmd",
    ]);
    assertEquals(r.code, 127);
    assertEquals(r.stdout, "");
    assertEquals(
      r.stderr,
      "Error: nosuchcmd: executable file not found in $PATH\n",
    );
    await until(async () => ok(await ptd(sb, ["ps", "-aq"])) === "");
  });
});

Deno.test("stop within the timeout; ps -a shows Exited (N); SIGKILL after -t", async () => {
  await withSandbox(async (sb) => {
    // A shell that exits 3 on SIGTERM, and one that ignores it (PID 1).
    await runD(
      sb,
      "--name",
      "polite",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "trap 'exit 3' TERM; while :; do sleep 0.1; done",
    );
    await runD(sb, "--name", "stubborn", "--rootfs", "/", "sleep", "100");
    let t = Date.now();
    assertEquals(ok(await ptd(sb, ["stop", "polite"])), "polite");
    assert(Date.now() - t < 5000, "stop took too long");
    t = Date.now();
    ok(await ptd(sb, ["stop", "-t", "1", "stubborn"]));
    const took = Date.now() - t;
    assert(took >= 1000 && took < 5000, `stop -t 1 took ${took} ms`);
    const ps = ok(
      await ptd(sb, ["ps", "-a", "--format", "{{.Names}} {{.Status}}"]),
    );
    assertMatch(ps, /^stubborn Exited \(137\) .*ago$/m);
    assertMatch(ps, /^polite Exited \(3\) .*ago$/m);
    assertEquals(ok(await ptd(sb, ["ps", "-q"])), "");
    assertEquals(ok(await ptd(sb, ["wait", "polite"])), "3");
  });
});

Deno.test("--restart on-failure:3 restarts a failing command exactly 3 times", async () => {
  await withSandbox(async (sb) => {
    const r = await ptd(sb, [
      "run",
      "-d",
      "--name",
      "flaky",
      "--restart",
      "on-failure:3",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "echo try; exit 2",
    ]);
    ok(r);
    assertEquals(ok(await ptd(sb, ["wait", "flaky"])), "2");
    assertEquals(
      await inspect(
        sb,
        "flaky",
        "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}",
      ),
      "3 exited 2",
    );
    assertEquals(ok(await ptd(sb, ["logs", "flaky"])), "try\ntry\ntry\ntry");
    const bad = await ptd(sb, [
      "run",
      "-d",
      "--restart",
      "sometimes",
      "--rootfs",
      "/",
      "true",
    ]);
    assertEquals(bad.code, 125);
    assertMatch(bad.stderr, /^Error: invalid restart policy/);
  });
});

Deno.test("kill -9 of the monitor is survived by ps and rm -f", async () => {
  await withSandbox(async (sb) => {
    const id = await runD(sb, "--rootfs", "/", "sleep", "100");
    const pid = Number(await inspect(sb, id, "{{.State.Pid}}"));
    const state = JSON.parse(
      Deno.readTextFileSync(`${sb.env.PTD_ROOT}/containers/${id}/state.json`),
    );
    Deno.kill(state.monitorPid, "SIGKILL");
    await until(() => Promise.resolve(!alive(pid)));
    const ps = ok(
      await ptd(sb, ["ps", "-a", "--format", "{{.ID}} {{.State}} {{.Status}}"]),
    );
    // Podman's .State is the status text too.
    assertMatch(
      ps,
      new RegExp(`^${id.slice(0, 12)} Exited \\(137\\) .* Exited \\(137\\)`),
    );
    assertEquals(ok(await ptd(sb, ["ps", "-q"])), "");
    assertEquals(ok(await ptd(sb, ["rm", "-f", id])), id);
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
  });
});

Deno.test("rm refuses a running container, rm -f kills and removes it", async () => {
  await withSandbox(async (sb) => {
    const id = await runD(
      sb,
      "--name",
      "busy",
      "--rootfs",
      "/",
      "sleep",
      "100",
    );
    const pid = Number(await inspect(sb, "busy", "{{.State.Pid}}"));
    const r = await ptd(sb, ["rm", "busy"]);
    assertEquals(r.code, 2); // Podman's code for a container in use
    assertMatch(r.stderr, /^Error: cannot remove container .* running/);
    assertEquals(ok(await ptd(sb, ["rm", "-f", "busy"])), "busy");
    assert(!alive(pid));
    const gone = await ptd(sb, ["inspect", id]);
    assertEquals(gone.code, 125);
    assertStringIncludes(gone.stderr, "no such object");
  });
});

Deno.test("20 containers started at once all come up with distinct names and ids", async () => {
  await withSandbox(async (sb) => {
    const ids = await Promise.all(
      Array.from(
        { length: 20 },
        () => runD(sb, "--rootfs", "/", "sleep", "100"),
      ),
    );
    assertEquals(new Set(ids).size, 20);
    const rows = ok(
      await ptd(sb, [
        "ps",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Names}} {{.State}}",
      ]),
    ).split("\n");
    assertEquals(rows.length, 20);
    assertEquals(new Set(rows.map((r) => r.split(" ")[1])).size, 20);
    assert(rows.every((r) => / Up .* ago$/.test(r)));
    assertEquals(new Set(rows.map((r) => r.split(" ")[0])), new Set(ids));
  });
});

Deno.test("logs -f follows until the container exits; --tail, -t, stderr apart", async () => {
  await withSandbox(async (sb) => {
    await runD(
      sb,
      "--name",
      "talk",
      "--rootfs",
      "/",
      "sh",
      "-c",
      // The pause orders the stderr line before the partial one in the log:
      // two pipes written at once are read in either order.
      "for i in 1 2 3; do echo out $i; sleep 0.3; done; echo err >&2; sleep 0.3; printf partial",
    );
    const t = Date.now();
    const f = await ptd(sb, ["logs", "-f", "talk"]);
    assert(
      Date.now() - t >= 500,
      "logs -f returned before the container ended",
    );
    assertEquals(f.stdout, "out 1\nout 2\nout 3\npartial");
    assertEquals(f.stderr, "err\n");
    // --tail counts lines of both streams, a partial record with the
    // full one before it (Podman 4.3).
    const tail = await ptd(sb, ["logs", "--tail", "2", "talk"]);
    assertEquals([tail.stdout, tail.stderr], ["out 3\n", "errpartial\n"]);
    assertMatch(
      ok(await ptd(sb, ["logs", "-t", "--tail", "2", "talk"])),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) out 3$/,
    );
    const log = ok(
      await ptd(sb, [
        "inspect",
        "-f",
        "{{.HostConfig.LogConfig.Path}}",
        "talk",
      ]),
    );
    assertMatch(
      Deno.readTextFileSync(log).split("\n")[0],
      /^\S+[+-]\d\d:\d\d stdout F out 1$/,
    );
    const logs = async (...a: string[]) =>
      (await ptd(sb, ["logs", ...a, "talk"])).stdout;
    assertEquals(await logs("--since", "1h"), f.stdout);
    assertEquals(await logs("--until", "1h"), "");
    assertEquals(await logs("--since", "2999-01-01T00:00:00Z"), "");
  });
});

Deno.test("create, start -a, restart, kill -s, rename, filters, prune", async () => {
  await withSandbox(async (sb) => {
    const id = ok(
      await ptd(sb, [
        "create",
        "--name",
        "later",
        "-l",
        "tier=web",
        "--rootfs",
        "/",
        "sh",
        "-c",
        "echo started; exit 4",
      ]),
    );
    assertEquals(
      ok(await ptd(sb, ["ps", "-a", "--format", "{{.Status}}"])),
      "Created",
    );
    const a = await ptd(sb, ["start", "-a", "later"]);
    assertEquals(a.code, 4);
    assertEquals(a.stdout, "started\n");
    ok(await ptd(sb, ["rename", "later", "renamed"]));
    assertEquals(await inspect(sb, id, "{{.Name}}"), "renamed");
    await runD(
      sb,
      "--name",
      "svc",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "trap 'exit 7' USR1; while :; do sleep 0.1; done",
    );
    ok(await ptd(sb, ["kill", "-s", "USR1", "svc"]));
    assertEquals(ok(await ptd(sb, ["wait", "svc"])), "7");
    ok(await ptd(sb, ["restart", "svc"]));
    assertEquals(await inspect(sb, "svc", "{{.State.Status}}"), "running");
    const f = (x: string) =>
      ptd(sb, ["ps", "-a", "--filter", x, "--format", "{{.Names}}"]);
    assertEquals(ok(await f("label=tier=web")), "renamed");
    assertEquals(ok(await f("status=running")), "svc");
    assertEquals(ok(await f("name=ren")), "renamed");
    assertEquals(ok(await f("ancestor=/")).split("\n").sort(), [
      "renamed",
      "svc",
    ]);
    const json = JSON.parse(ok(await ptd(sb, ["ps", "--format", "json"])));
    assertEquals(json.map((c: { Names: string[] }) => c.Names), [["svc"]]);
    assertEquals(ok(await ptd(sb, ["container", "prune", "-f"])), id);
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])).split("\n").length, 1);
    const top = ok(await ptd(sb, ["top", "svc"]));
    assertMatch(top, /^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND\n/);
    assertStringIncludes(top, "sleep");
    const dup = await ptd(sb, ["rename", "svc", "svc"]);
    assertEquals(dup.code, 125);
    // No cgroup of its own rootless on this kind of host: a clear error.
    const pause = await ptd(sb, ["pause", "svc"]);
    assertEquals(pause.code, 125);
    assertMatch(pause.stderr, /^Error: pause requires the cgroup freezer/);
    assertEquals(await inspect(sb, "svc", "{{.State.Status}}"), "running");
  });
});

Deno.test("exec: exit code, -e, -w, -u, -i, -d, missing command, stopped container", async () => {
  await withSandbox(async (sb) => {
    await runD(
      sb,
      "--name",
      "box",
      "-e",
      "A=1",
      "--rootfs",
      "/",
      "sleep",
      "100",
    );
    const r = await ptd(sb, ["exec", "box", "sh", "-c", "echo $A; exit 5"]);
    assertEquals([r.code, r.stdout], [5, "1\n"]);
    // PID 1 is the container's sleep: exec joined its PID namespace.
    assertEquals(
      ok(
        await ptd(sb, [
          "exec",
          "box",
          "sh",
          "-c",
          "tr '\\0' ' ' < /proc/1/cmdline",
        ]),
      ),
      "sleep 100",
    );
    assertEquals(
      ok(
        await ptd(sb, [
          "exec",
          "-e",
          "A=2",
          "-w",
          "/etc",
          "box",
          "sh",
          "-c",
          "echo $A; pwd",
        ]),
      ),
      "2\n/etc",
    );
    assertEquals(
      ok(await ptd(sb, ["exec", "-u", "1000:1000", "box", "id", "-u"])),
      "1000",
    );
    assertEquals(
      ok(
        await ptd(sb, [
          "exec",
          "-u",
          "1000",
          "box",
          "grep",
          "CapEff",
          "/proc/self/status",
        ]),
      ),
      "CapEff:\t0000000000000000",
    );
    assertEquals(
      ok(await ptd(sb, ["exec", "box", "grep", "CapBnd", "/proc/self/status"])),
      "CapBnd:\t00000000a80425fb",
    );
    assertEquals(
      ok(await ptd(sb, ["exec", "-i", "box", "cat"], { stdin: "in\n" })),
      "in",
    );
    assertEquals(
      ok(await ptd(sb, ["exec", "box", "cat"], { stdin: "in\n" })),
      "",
    );
    assertEquals(
      ok(
        await ptd(sb, [
          "exec",
          "-d",
          "box",
          "sh",
          "-c",
          "sleep 0.2; touch /done",
        ]),
      ),
      "",
    );
    await until(async () =>
      (await ptd(sb, ["exec", "box", "test", "-e", "/done"])).code === 0
    );
    const missing = await ptd(sb, ["exec", "box", "nosuchcmd"]);
    assertEquals([missing.code, missing.stderr], [
      127,
      "Error: nosuchcmd: executable file not found in $PATH\n",
    ]);
    ok(await ptd(sb, ["stop", "-t", "0", "box"]));
    const stopped = await ptd(sb, ["exec", "box", "true"]);
    assertEquals(stopped.code, 255); // as Podman
    assertMatch(
      stopped.stderr,
      /^Error: can only create exec sessions on running containers/,
    );
  });
});

Deno.test("no ptd/deno process is reachable from inside while exec runs (CVE-2019-5736 class)", async () => {
  await withSandbox(async (sb) => {
    const deno = Deno.realPathSync(Deno.execPath());
    // The container scans /proc and tries to open every ptd/deno exe for
    // writing, while the host execs into it again and again.
    const scan = `while :; do for p in /proc/[0-9]*; do
      e=$(readlink $p/exe 2>/dev/null); [ "$e" = "${deno}" ] || continue
      echo "found $p" >> /tmp/found
      (: >> $p/exe) 2>/dev/null && echo "wrote $p" >> /tmp/found
    done; done`;
    await runD(sb, "--name", "victim", "--rootfs", "/", "sh", "-c", scan);
    for (let i = 0; i < 5; i++) {
      assertEquals(
        ok(await ptd(sb, ["exec", "victim", "readlink", "/proc/self/exe"])),
        "/usr/bin/readlink",
      );
    }
    const found = await ptd(sb, ["exec", "victim", "cat", "/tmp/found"]);
    assertEquals(found.stdout, "");
    // The exe of every process the container can see, and writing to it.
    const exes = ok(
      await ptd(sb, [
        "exec",
        "victim",
        "sh",
        "-c",
        "for p in /proc/[0-9]*; do readlink $p/exe; done; true",
      ]),
    );
    assert(!exes.split("\n").includes(deno), exes);
    const w = await ptd(sb, [
      "exec",
      "victim",
      "sh",
      "-c",
      `: >> ${deno}.x 2>/dev/null; for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = "${deno}" ] && : >> $p/exe && echo wrote; done; true`,
    ]);
    assertEquals(w.stdout, "");
  });
});

Deno.test("exec -it runs in a real pty (script): terminal, window size, exit code", async () => {
  await withSandbox(async (sb) => {
    await runD(sb, "--name", "term", "--rootfs", "/", "sleep", "100");
    const self =
      `${Deno.execPath()} run -A --quiet --config=${REPO}/deno.json ${REPO}/main.ts`;
    const inner =
      `${self} exec -it term sh -c 'test -t 0 && test -t 1 && echo is-a-tty; stty size; exit 6'`;
    const out = await new Deno.Command("script", {
      args: ["-qec", `stty rows 30 cols 100; ${inner}`, "/dev/null"],
      env: sb.env,
      stdin: "null",
      stdout: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 6, text);
    assertStringIncludes(text, "is-a-tty");
    assertStringIncludes(text, "30 100");
    // An interactive shell on the pty reads what is typed.
    const typed = await new Deno.Command("script", {
      args: ["-qec", `${self} exec -it term sh`, "/dev/null"],
      env: sb.env,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = typed.stdin.getWriter();
    await w.write(new TextEncoder().encode("echo typed-$((6*7))\nexit 3\n"));
    await w.close();
    const res = await typed.output();
    assertEquals(res.code, 3);
    assertStringIncludes(new TextDecoder().decode(res.stdout), "typed-42");
  });
});

Deno.test("--log-opt max-size rotates the log, keeping one old file", async () => {
  await withSandbox(async (sb) => {
    await runD(
      sb,
      "--name",
      "chatty",
      "--log-opt",
      "max-size=4k",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "i=1; while [ $i -le 300 ]; do echo line $i; i=$((i+1)); done",
    );
    assertEquals(ok(await ptd(sb, ["wait", "chatty"])), "0");
    const log = await inspect(sb, "chatty", "{{.HostConfig.LogConfig.Path}}");
    assert(Deno.statSync(log).size <= 4096);
    assert(Deno.statSync(`${log}.1`).size <= 4096);
    const lines = ok(await ptd(sb, ["logs", "chatty"])).split("\n");
    assertEquals(lines.at(-1), "line 300");
    assert(lines.length < 300 && lines.length > 50, `${lines.length} lines`);
    assertEquals(
      Number(lines[1].split(" ")[1]),
      Number(lines[0].split(" ")[1]) + 1,
    );
    // Podman ignores options it has no use for, and refuses bad values.
    ok(
      await ptd(sb, [
        "create",
        "--log-opt",
        "color=blue",
        "--rootfs",
        "/",
        "true",
      ]),
    );
    const bad = await ptd(sb, [
      "create",
      "--log-opt",
      "max-size=big",
      "--rootfs",
      "/",
      "true",
    ]);
    assertEquals([bad.code, bad.stderr], [
      125,
      "Error: invalid size: 'big'\n",
    ]);
  });
});

Deno.test("attach: output and stdin of a -i container; ctrl-p ctrl-q detaches", async () => {
  await withSandbox(async (sb) => {
    await runD(
      sb,
      "-i",
      "--name",
      "reader",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "while read l; do echo got $l; done; exit 4",
    );
    const d = await ptd(sb, ["attach", "reader"], { stdin: "a\n\x10\x11" });
    assertEquals(d.code, 0);
    assertEquals(await inspect(sb, "reader", "{{.State.Status}}"), "running");
    await until(async () =>
      (await ptd(sb, ["logs", "reader"])).stdout === "got a\n"
    );
    // Input that ends closes the container's stdin: it exits, attach returns its code.
    const a = await ptd(sb, ["attach", "reader"], { stdin: "b\n" });
    assertEquals([a.code, a.stdout], [4, "got b\n"]);
    const gone = await ptd(sb, ["attach", "reader"]);
    assertEquals(gone.code, 125);
    assertMatch(
      gone.stderr,
      /^Error: you cannot attach to a stopped container/,
    );
  });
});

Deno.test("cp both ways: directories and renames, modes kept, owners mapped", async () => {
  await withSandbox(async (sb) => {
    await runD(sb, "--name", "files", "--rootfs", "/", "sleep", "100");
    const src = `${sb.dir}/src`;
    Deno.mkdirSync(`${src}/sub`, { recursive: true });
    Deno.writeTextFileSync(`${src}/a`, "one\n", { mode: 0o750 });
    Deno.chmodSync(`${src}/a`, 0o750);
    Deno.writeTextFileSync(`${src}/sub/b`, "two\n");
    ok(await ptd(sb, ["cp", src, "files:/tmp/"]));
    assertEquals(
      ok(
        await ptd(sb, [
          "exec",
          "files",
          "stat",
          "-c",
          "%a %u:%g %n",
          "/tmp/src/a",
          "/tmp/src/sub/b",
        ]),
      ),
      "750 0:0 /tmp/src/a\n644 0:0 /tmp/src/sub/b",
    );
    ok(await ptd(sb, ["cp", `${src}/a`, "files:/tmp/renamed"]));
    assertEquals(
      ok(await ptd(sb, ["exec", "files", "cat", "/tmp/renamed"])),
      "one",
    );
    ok(
      await ptd(sb, [
        "exec",
        "files",
        "sh",
        "-c",
        "mkdir /tmp/out && echo three > /tmp/out/c && chmod 604 /tmp/out/c",
      ]),
    );
    const back = `${sb.dir}/back`;
    Deno.mkdirSync(back);
    ok(await ptd(sb, ["cp", "files:/tmp/out", back]));
    const st = Deno.statSync(`${back}/out/c`);
    assertEquals([st.mode! & 0o777, st.uid], [0o604, Deno.uid()]);
    ok(await ptd(sb, ["cp", "files:/tmp/out/c", `${back}/named`]));
    assertEquals(Deno.readTextFileSync(`${back}/named`), "three\n");
    const missing = await ptd(sb, ["cp", "files:/nope", back]);
    assertEquals([missing.code, missing.stderr], [
      125,
      'Error: "/nope" could not be found on container files: no such file or directory\n',
    ]);
  });
});

Deno.test("run -t / -it in a real pty (script): terminal, size, typed input, exit code", async () => {
  await withSandbox(async (sb) => {
    const self =
      `${Deno.execPath()} run -A --quiet --config=${REPO}/deno.json ${REPO}/main.ts`;
    const t = await new Deno.Command("script", {
      args: [
        "-qec",
        `stty rows 30 cols 100; ${self} run --rm -t --rootfs / sh -c 'test -t 0 && echo is-a-tty; stty size; exit 7'`,
        "/dev/null",
      ],
      env: sb.env,
      stdin: "null",
      stdout: "piped",
    }).output();
    const text = new TextDecoder().decode(t.stdout);
    assertEquals(t.code, 7, text);
    assertStringIncludes(text, "is-a-tty");
    assertStringIncludes(text, "30 100");
    const it = new Deno.Command("script", {
      args: [
        "-qec",
        `${self} run --rm -it --name shell --rootfs / sh`,
        "/dev/null",
      ],
      env: sb.env,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    // Type only once the shell shows its prompt: keys typed before the
    // container is attached may be lost, as on a real terminal.
    let seen = "";
    const dec = new TextDecoder();
    const reader = it.stdout.getReader();
    const deadline = Date.now() + 30_000;
    while (!seen.includes("# ") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += dec.decode(value, { stream: true });
    }
    const w = it.stdin.getWriter();
    await w.write(new TextEncoder().encode("echo typed-$((6*7))\nexit 3\n"));
    await w.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += dec.decode(value, { stream: true });
    }
    assertEquals((await it.status).code, 3, seen);
    assertStringIncludes(seen, "typed-42");
    // -d -t: the log holds what the terminal showed.
    await runD(
      sb,
      "-t",
      "--name",
      "ttylog",
      "--rootfs",
      "/",
      "sh",
      "-c",
      "echo hello-tty",
    );
    assertEquals(ok(await ptd(sb, ["wait", "ttylog"])), "0");
    assertEquals((await ptd(sb, ["logs", "ttylog"])).stdout, "hello-tty\r\n");
  });
});

Deno.test("start -a -i: attached from the first byte, stdin in, exit code out", async () => {
  await withSandbox(async (sb) => {
    ok(
      await ptd(sb, [
        "create",
        "-i",
        "--name",
        "echoer",
        "--rootfs",
        "/",
        "sh",
        "-c",
        "echo first; read l; echo got $l; exit 9",
      ]),
    );
    const r = await ptd(sb, ["start", "-a", "-i", "echoer"], {
      stdin: "line\n",
    });
    assertEquals([r.code, r.stdout], [9, "first\ngot line\n"]);
  });
});

Deno.test("a monitor that fails says why: start's error line and State.Error", async () => {
  await withSandbox(async (sb) => {
    const id = ok(
      await ptd(sb, ["create", "--name", "broken", "--rootfs", "/", "true"]),
    );
    // A file where the runtime directory must go makes the monitor fail.
    Deno.mkdirSync(`${sb.env.PTD_RUNROOT}/containers`, { recursive: true });
    Deno.writeTextFileSync(`${sb.env.PTD_RUNROOT}/containers/${id}`, "x");
    const r = await ptd(sb, ["start", "broken"]);
    assertEquals(r.code, 125);
    assertMatch(
      r.stderr,
      /^Error: monitor for broken failed: AlreadyExists: .*\n$/,
    );
    assertMatch(await inspect(sb, "broken", "{{.State.Error}}"), /^monitor: /);
    Deno.removeSync(`${sb.env.PTD_RUNROOT}/containers/${id}`);
  });
});
