/**
 * `ptd system service` with the real clients: Docker's CLI (28.x,
 * negotiating down to 1.41) and Debian's docker-compose (1.29) against the
 * service's unix socket, rootless. Each test starts a service on a sandbox
 * of its own and checks what the clients print and exit with, then that
 * the service still serves and left nothing behind.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import {
  ptd,
  ptdArgv,
  ptdCommand,
  waitForPath,
  withSandbox,
} from "../helpers.ts";
import { storeBusyboxImage } from "../busybox_image.ts";
import { ok, sandboxFor, startRegistry } from "../registry.ts";
import { removeTrees } from "../../src/storage/remove.ts";
import {
  type Api,
  client,
  composeProject,
  docker,
  dockerOk,
  has,
  http,
  NO_DOCKER,
  startService,
  withApi,
} from "../api_client.ts";

const dec = new TextDecoder();

/** `docker run -d --name NAME ARGS`, which must succeed. */
const dockerDetached = (api: Api, name: string, args: string[]) =>
  dockerOk(api, ["run", "-d", "--name", name, ...args]);

/** Free TCP port on the loopback. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function fetchText(url: string, ms = 10_000): Promise<string> {
  for (const end = Date.now() + ms;;) {
    try {
      return await (await fetch(url)).text();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

/** Processes whose parent is `pid` (zombies included). */
function childrenOf(pid: number): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === pid) out.push(`${e.name} ${f[0]}`);
    } catch { /* gone */ }
  }
  return out;
}

let tmuxRuns = 0;

/**
 * Runs `cmd` in a tmux pane of 90x25, types `keys` at its prompt and
 * returns the pane once it shows the exit code ("exit=N").
 */
async function inTmux(api: Api, cmd: string, keys: string): Promise<string> {
  // A server of its own each time: one just killed may linger on a socket.
  const socket = `${api.sb.dir}/tmux-${++tmuxRuns}.sock`;
  const tmux = (args: string[]) =>
    new Deno.Command("tmux", {
      args: ["-S", socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const env = Object.entries(api.env).map(([k, v]) => `${k}=${v}`);
  await tmux([
    "new-session",
    "-d",
    "-x",
    "90",
    "-y",
    "25",
    "env",
    ...env,
    "sh",
    "-c",
    `${cmd}; echo exit=$?; sleep 30`,
  ]);
  const pane = async (want: string) => {
    let text = "";
    for (let i = 0; i < 300; i++) {
      text = dec.decode((await tmux(["capture-pane", "-p"])).stdout);
      if (text.includes(want)) return text;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`tmux pane never showed ${want}: ${text}`);
  };
  try {
    await pane("/ #");
    await tmux(["send-keys", keys, "Enter"]);
    return await pane("exit=");
  } finally {
    await tmux(["kill-server"]);
  }
}

/** The service's own pid (the child is deno running main.ts). */
const servicePid = (api: Api) => api.child.pid;

Deno.test({
  name:
    "api: docker run --rm, exit codes, -d -p, ps, logs, exec, cp, stop, rm, inspect",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      const v = await dockerOk(api, [
        "version",
        "--format",
        "{{.Server.APIVersion}}",
      ]);
      assertEquals(v.trim(), "1.41");
      assertEquals(
        await dockerOk(api, ["run", "--rm", "busybox", "echo", "hi"]),
        "hi\n",
      );
      const fail = await docker(api, [
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo oops >&2; exit 3",
      ]);
      assertEquals([fail.code, fail.stderr], [3, "oops\n"]);
      const missing = await docker(api, [
        "run",
        "--rm",
        "busybox",
        "nosuchcmd",
      ]);
      assertEquals(missing.code, 127, missing.stderr);
      assertStringIncludes(missing.stderr, "executable file not found");
      // -i: stdin reaches the container through the hijacked connection.
      const cat = await docker(
        api,
        ["run", "--rm", "-i", "busybox", "cat"],
        "in\n",
      );
      assertEquals([cat.code, cat.stdout], [0, "in\n"]);

      const port = freePort();
      const id = (await dockerOk(api, [
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        `127.0.0.1:${port}:80`,
        "busybox",
        "sh",
        "-c",
        "echo started; exec httpd -f -p 80 -h /etc",
      ])).trim();
      assertMatch(id, /^[0-9a-f]{64}$/);
      assertEquals(
        (await fetchText(`http://127.0.0.1:${port}/hostname`)).trim(),
        id.slice(0, 12),
      );
      const ps = await dockerOk(api, [
        "ps",
        "--format",
        "{{.Names}} {{.Status}} {{.Ports}}",
      ]);
      assertMatch(
        ps,
        new RegExp(`^web Up .*127\\.0\\.0\\.1:${port}->80/tcp\\n$`),
      );
      assertEquals(await dockerOk(api, ["logs", "web"]), "started\n");
      const state = JSON.parse(await dockerOk(api, ["inspect", "web"]))[0];
      assertEquals(
        [state.Name, state.State.Running, state.Config.Image],
        ["/web", true, "localhost/busybox:latest"],
      );
      assertEquals(
        (await dockerOk(api, ["exec", "web", "cat", "/etc/hostname"])).trim(),
        id.slice(0, 12),
      );
      assertEquals(
        (await docker(api, ["exec", "web", "sh", "-c", "exit 4"])).code,
        4,
      );
      // stats: zeros until ptd reads cgroup figures, in Docker's shape.
      assertEquals(
        await dockerOk(api, [
          "stats",
          "--no-stream",
          "--format",
          "{{.Name}} {{.CPUPerc}} {{.PIDs}}",
          "web",
        ]),
        "web 0.00% 1\n",
      );

      // Readers that stop early (a tar cut short) leave the service serving.
      for (const cmd of ["docker export web", "docker cp web:/bin -"]) {
        const cut = await client(api, "sh", [
          "-c",
          `${cmd} | head -c 512 | wc -c`,
        ]);
        assertEquals(cut.stdout.trim(), "512");
      }

      // docker cp both ways.
      Deno.writeTextFileSync(`${api.sb.dir}/in.txt`, "to the container\n");
      await dockerOk(api, ["cp", `${api.sb.dir}/in.txt`, "web:/tmp/"]);
      await dockerOk(api, ["cp", `${api.sb.dir}/in.txt`, "web:/tmp/renamed"]);
      assertEquals(
        await dockerOk(api, [
          "exec",
          "web",
          "cat",
          "/tmp/in.txt",
          "/tmp/renamed",
        ]),
        "to the container\n".repeat(2),
      );
      await dockerOk(api, ["cp", "web:/etc/hostname", `${api.sb.dir}/out.txt`]);
      assertEquals(
        Deno.readTextFileSync(`${api.sb.dir}/out.txt`).trim(),
        id.slice(0, 12),
      );
      await dockerOk(api, ["cp", "web:/tmp", `${api.sb.dir}/tmpdir`]);
      assertEquals(
        Deno.readTextFileSync(`${api.sb.dir}/tmpdir/renamed`),
        "to the container\n",
      );
      const nofile = await docker(api, ["cp", "web:/nope", `${api.sb.dir}/x`]);
      assertEquals(nofile.code, 1);
      assertStringIncludes(nofile.stderr.toLowerCase(), "no such file");

      // Conflicts and missing objects are Docker's errors.
      const rm = await docker(api, ["rm", "web"]);
      assertEquals(rm.code, 1);
      assertStringIncludes(rm.stderr, "cannot remove container");
      const none = await docker(api, ["inspect", "nosuch"]);
      assertEquals(none.code, 1);
      assertEquals(await dockerOk(api, ["stop", "-t", "1", "web"]), "web\n");
      assertMatch(
        await dockerOk(api, ["ps", "-a", "--format", "{{.Status}}"]),
        /^Exited \(137\)/,
      );
      assertEquals(await dockerOk(api, ["rm", "web"]), "web\n");
      assertEquals(await dockerOk(api, ["ps", "-aq"]), "");
    }),
});

Deno.test({
  name: "api: docker logs -f follows; exec -it through tmux; run -t",
  ignore: NO_DOCKER || !has("tmux"),
  fn: () =>
    withApi(async (api) => {
      await dockerOk(api, [
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo tick $i; sleep 0.3; done; sleep 1000",
      ]);
      // -f: the lines arrive as they are written, the stream stays open.
      const follow = new Deno.Command("docker", {
        args: ["logs", "-f", "ticker"],
        env: api.env,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = follow.stdout.getReader();
      let seen = "";
      while (!seen.includes("tick 3\n")) {
        const r = await reader.read();
        if (r.done) break;
        seen += dec.decode(r.value);
      }
      assertEquals(seen, "tick 1\ntick 2\ntick 3\n");
      // A client that hangs up mid-stream does not hurt the service.
      follow.kill("SIGKILL");
      await follow.status;
      reader.releaseLock();
      await follow.stdout.cancel();
      await follow.stderr.cancel();

      // -t through a terminal: the command sees the pane's size and its
      // exit code comes back, for exec -it and for run -it alike.
      for (
        const cmd of [
          "docker exec -it ticker sh",
          "docker run -it --rm busybox sh",
        ]
      ) {
        const text = await inTmux(
          api,
          cmd,
          "echo in-$((40+2)) $(stty size); exit 7",
        );
        assertStringIncludes(text, "in-42 25 90");
        assertStringIncludes(text, "exit=7");
      }
      await dockerOk(api, ["rm", "-f", "ticker"]);
    }),
});

Deno.test({
  name:
    "api: images pull and push (progress), tag, rmi, save, load; volumes create, ls, rm",
  ignore: NO_DOCKER,
  fn: async () => {
    const reg = await startRegistry();
    try {
      await withApi(async (api) => {
        await ok(api.sb, ["push", "busybox", `${reg.host}/test/bb:1`]);
        const pulled = await docker(api, ["pull", `${reg.host}/test/bb:1`]);
        assertEquals(pulled.code, 0, pulled.stderr);
        assertStringIncludes(pulled.stdout, "Status: Downloaded newer image");
        const bad = await docker(api, ["pull", `${reg.host}/test/none:1`]);
        assertEquals(bad.code, 1);
        await dockerOk(api, ["tag", `${reg.host}/test/bb:1`, "mine:2"]);
        const images = await dockerOk(api, [
          "images",
          "--format",
          "{{.Repository}}:{{.Tag}}",
        ]);
        for (const n of [`${reg.host}/test/bb:1`, "mine:2"]) {
          assertStringIncludes(images, n);
        }
        assertStringIncludes(
          await dockerOk(api, ["rmi", "mine:2"]),
          "Untagged",
        );
        await dockerOk(api, ["tag", `${reg.host}/test/bb:1`, "mine:2"]);
        const inUse = await docker(api, ["rmi", "busybox"]);
        assertEquals(inUse.code, 0, inUse.stderr);
        assertEquals(
          await dockerOk(api, [
            "run",
            "--rm",
            `${reg.host}/test/bb:1`,
            "echo",
            "ok",
          ]),
          "ok\n",
        );

        // push (progress JSON) and pull back; save and load.
        await dockerOk(api, [
          "tag",
          `${reg.host}/test/bb:1`,
          `${reg.host}/test/pushed:3`,
        ]);
        const pushed = await docker(api, ["push", `${reg.host}/test/pushed:3`]);
        assertEquals(pushed.code, 0, pushed.stderr);
        assertMatch(pushed.stdout, /3: digest: sha256:[0-9a-f]{64}/);
        await dockerOk(api, ["rmi", `${reg.host}/test/pushed:3`]);
        await dockerOk(api, ["pull", `${reg.host}/test/pushed:3`]);
        const archive = `${api.sb.dir}/saved.tar`;
        await dockerOk(api, ["save", "-o", archive, "mine:2"]);
        await dockerOk(api, ["rmi", "mine:2"]);
        assertStringIncludes(
          await dockerOk(api, ["load", "-i", archive]),
          "Loaded image: ",
        );
        assertStringIncludes(
          await dockerOk(api, [
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
          ]),
          "mine:2",
        );

        await dockerOk(api, ["volume", "create", "--label", "a=b", "vol1"]);
        const vols = await dockerOk(api, [
          "volume",
          "ls",
          "--format",
          "{{.Name}}",
        ]);
        assertEquals(vols, "vol1\n");
        const info = JSON.parse(
          await dockerOk(api, ["volume", "inspect", "vol1"]),
        );
        assertEquals(info[0].Labels, { a: "b" });
        await dockerOk(api, ["volume", "rm", "vol1"]);
        assertEquals((await docker(api, ["volume", "rm", "vol1"])).code, 1);
      }, () => sandboxFor(reg.host));
    } finally {
      await reg.cleanup();
    }
  },
});

Deno.test({
  name: "api: docker login checks credentials; pull and push send the client's",
  ignore: NO_DOCKER,
  fn: async () => {
    const user = { username: "tester", password: "s3cret pass" };
    const reg = await startRegistry({ tls: true, user });
    try {
      await withApi(async (api) => {
        const certs =
          `${api.sb.env.XDG_CONFIG_HOME}/containers/certs.d/${reg.host}`;
        Deno.mkdirSync(certs, { recursive: true });
        Deno.writeTextFileSync(`${certs}/ca.crt`, reg.caCert!);
        const image = `${reg.host}/secure/bb:1`;
        await dockerOk(api, ["tag", "busybox", image]);
        const anonymous = await docker(api, ["push", image]);
        assertMatch(
          anonymous.stdout + anonymous.stderr,
          /401|unauthorized|authentication/i,
        );
        const wrong = await docker(
          api,
          ["login", "-u", user.username, "--password-stdin", reg.host],
          "wrong",
        );
        assertEquals(wrong.code, 1, wrong.stderr);
        const login = await docker(
          api,
          ["login", "-u", user.username, "--password-stdin", reg.host],
          user.password,
        );
        assertEquals(login.code, 0, login.stderr);
        assertStringIncludes(login.stdout, "Login Succeeded");
        // Kept by the client, not by ptd.
        assertEquals(
          await Deno.lstat(`${api.sb.dir}/auth.json`).then(() => 1, () => 0),
          0,
          "ptd stored the credentials",
        );
        const pushed = await docker(api, ["push", image]);
        assertEquals(pushed.code, 0, pushed.stdout + pushed.stderr);
        await dockerOk(api, ["rmi", image]);
        await dockerOk(api, ["pull", image]);
      }, () => sandboxFor());
    } finally {
      await reg.cleanup();
    }
  },
});

Deno.test({
  name:
    "api: docker-compose up -d with a named volume and a port, down -v leaves nothing",
  ignore: NO_DOCKER || !has("docker-compose"),
  fn: () =>
    withApi(async (api) => {
      const port = freePort();
      const compose = composeProject(
        api,
        [
          'version: "3"',
          "services:",
          "  web:",
          "    image: busybox",
          "    command: httpd -f -p 80 -h /data",
          "    network_mode: bridge",
          "    ports:",
          `      - "127.0.0.1:${port}:80"`,
          "    volumes:",
          "      - data:/data",
          "  writer:",
          "    image: busybox",
          "    network_mode: bridge",
          '    command: sh -c "echo from-writer > /data/index.html; exec sleep 1000"',
          "    stop_signal: SIGKILL",
          "    volumes:",
          "      - data:/data",
          "volumes:",
          "  data:",
          "",
        ].join("\n"),
      );
      const up = await compose(["up", "-d"]);
      assertEquals(up.code, 0, up.stderr);
      assertEquals(
        (await fetchText(`http://127.0.0.1:${port}/index.html`)).trim(),
        "from-writer",
      );
      const ps = await compose(["ps"]);
      assertMatch(ps.stdout, /proj_web_1 .* Up +127\.0\.0\.1/);
      assertEquals(
        await dockerOk(api, ["volume", "ls", "--format", "{{.Name}}"]),
        "proj_data\n",
      );
      const down = await compose(["down", "-v"]);
      assertEquals(down.code, 0, down.stderr);
      assertEquals(await dockerOk(api, ["ps", "-aq"]), "");
      assertEquals(await dockerOk(api, ["volume", "ls", "-q"]), "");
    }),
});

Deno.test({
  name: "api: Docker's errors for bad requests, and the service keeps serving",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      const cases: [string, string, string | undefined, number, string][] = [
        ["POST", "/v1.41/containers/create", "{not json", 400, "invalid JSON"],
        ["POST", "/containers/create", '{"Image": 5}', 400, "Config.Image"],
        [
          "POST",
          "/containers/create",
          '{"Image":"busybox","HostConfig":{"Memory":1048576}}',
          400,
          "HostConfig.Memory",
        ],
        [
          "POST",
          "/containers/create",
          '{"Image":"nosuchimage"}',
          404,
          "nosuchimage",
        ],
        ["GET", "/containers/nosuch/json", undefined, 404, "nosuch"],
        ["DELETE", "/volumes/nosuch", undefined, 404, "nosuch"],
        ["GET", "/no/such/route", undefined, 404, "page not found"],
        ["POST", "/containers/nosuch/wait", undefined, 404, "nosuch"],
      ];
      for (const [method, path, body, status, text] of cases) {
        const r = await http(api, method, path, body);
        assertEquals(r.status, status, `${method} ${path}: ${r.body}`);
        assertStringIncludes(JSON.parse(r.body).message, text);
      }
      const created = await http(
        api,
        "POST",
        "/containers/create?name=twice",
        '{"Image":"busybox","Cmd":["true"]}',
      );
      assertEquals(created.status, 201);
      const again = await http(
        api,
        "POST",
        "/containers/create?name=twice",
        '{"Image":"busybox","Cmd":["true"]}',
      );
      assertEquals(again.status, 409, again.body);
      const ping = await http(api, "HEAD", "/_ping");
      assertEquals(ping.status, 200);
      assertStringIncludes(ping.headers, "Api-Version: 1.41");
      // A client that hangs up before its reply, and one mid-stream.
      const conn = await Deno.connect({ transport: "unix", path: api.socket });
      await conn.write(new TextEncoder().encode(
        "POST /containers/twice/wait HTTP/1.1\r\nHost: x\r\n\r\n",
      ));
      conn.close();
      assertEquals(
        await dockerOk(api, ["run", "--rm", "busybox", "echo", "still"]),
        "still\n",
      );
    }),
});

Deno.test({
  name:
    "api: 50 concurrent clients each running a container, a restart; nothing leaks",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      const pid = servicePid(api);
      const fds = () => [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
      await dockerOk(api, ["run", "--rm", "busybox", "true"]);
      const before = fds();
      const runs = await Promise.all(
        [...Array(50).keys()].map((i) =>
          docker(api, ["run", "--rm", "busybox", "echo", `n${i}`])
        ),
      );
      runs.forEach((r, i) =>
        assertEquals([r.code, r.stdout], [0, `n${i}\n`], r.stderr)
      );
      assertEquals(await dockerOk(api, ["ps", "-aq"]), "");
      // A restart's new monitor is the service's child too.
      await dockerOk(api, [
        "run",
        "-d",
        "--name",
        "r",
        "busybox",
        "sleep",
        "100",
      ]);
      await dockerOk(api, ["restart", "-t", "0", "r"]);
      await dockerOk(api, ["rm", "-f", "r"]);
      // Monitors reaped, connections and pipes closed.
      await new Promise((ok) => setTimeout(ok, 500));
      assertEquals(childrenOf(pid), []);
      assert(fds() <= before + 2, `fds: ${before} before, ${fds()} after`);
    }),
});

Deno.test({
  name:
    "api: the socket is private, the service exits when idle, containers outlive it",
  ignore: NO_DOCKER,
  fn: () =>
    withSandbox(async (sb) => {
      await storeBusyboxImage(sb, "busybox");
      const api = await startService(sb, ["--time", "2"]);
      assertEquals(Deno.statSync(api.socket).mode! & 0o777, 0o600);
      assertEquals(Deno.statSync(`${sb.dir}/api`).mode! & 0o777, 0o700);
      // A second service on a live socket is refused; the first keeps it.
      const second = await ptd(sb, [
        "system",
        "service",
        `unix://${api.socket}`,
      ]);
      assertEquals(second.code, 125);
      assertStringIncludes(second.stderr, "another service listens there");
      await dockerOk(api, [
        "run",
        "-d",
        "--name",
        "keep",
        "busybox",
        "sleep",
        "1000",
      ]);
      const t0 = Date.now();
      const status = await api.child.status;
      const idle = Date.now() - t0;
      assertEquals(status.code, 0);
      assert(idle >= 1500 && idle < 6000, `exited after ${idle} ms`);
      assertEquals(
        await Deno.lstat(api.socket).then(() => true, () => false),
        false,
        "socket left behind",
      );
      assertMatch(
        (await ptd(sb, ["ps", "--format", "{{.Names}}"])).stdout,
        /^keep\n$/,
      );
      // tcp: served with a warning.
      const port = freePort();
      const tcp = ptdCommand(sb, [
        "system",
        "service",
        "--time",
        "1",
        `tcp://127.0.0.1:${port}`,
      ]).spawn();
      // curl, not fetch: fetch keeps its connection, which keeps the service.
      await waitForPort(port);
      const ping = await new Deno.Command("curl", {
        args: ["-s", `http://127.0.0.1:${port}/_ping`],
        stdout: "piped",
      }).output();
      assertEquals(dec.decode(ping.stdout), "OK");
      const out = await tcp.output();
      assertEquals(out.code, 0);
      assertStringIncludes(dec.decode(out.stderr), "unauthenticated");
      const bad = await ptd(sb, ["system", "service", "http://x"]);
      assertEquals(bad.code, 125);
      assertStringIncludes(bad.stderr, "not a valid listening URI");
      await removeTrees([`${sb.dir}/docker`]);
    }),
});

/** Runs `docker ARGS` in the background; its stdout, line by line. */
function dockerLines(api: Api, args: string[]) {
  const child = new Deno.Command("docker", {
    args,
    env: api.env,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
  let buf = "";
  return {
    /** The lines up to the first one that includes `want`. */
    async until(want: string): Promise<string[]> {
      for (;;) {
        const at = buf.indexOf(want);
        if (at >= 0) {
          const end = buf.indexOf("\n", at);
          if (end >= 0) {
            const out = buf.slice(0, end).split("\n");
            buf = buf.slice(end + 1);
            return out;
          }
        }
        const next = await lines.next();
        if (next.done) throw new Error(`no ${want} in ${buf}`);
        buf += next.value;
      }
    },
    /** Ends the client. */
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* ended already */ }
      await child.status;
      await lines.return?.();
    },
  };
}

Deno.test({
  name:
    "api: docker events --since/--until in Docker's shape and names, filtered, and streaming",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      const exited = await docker(api, [
        "run",
        "--name",
        "ev",
        "busybox",
        "sh",
        "-c",
        "exit 3",
      ]);
      assertEquals(exited.code, 3, exited.stderr);
      await dockerOk(api, ["rm", "ev"]);
      await dockerOk(api, ["volume", "create", "evvol"]);
      const past = (args: string[]) =>
        dockerOk(api, ["events", "--since", "1m", "--until", "0s", ...args]);
      assertEquals(
        await past([
          "--filter",
          "scope=local",
          "--filter",
          "container=ev",
          "--format",
          "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ]),
        ["create", "init", "start", "die", "destroy"].map((a) =>
          `container ${a} ev\n`
        )
          .join(""),
      );
      // Docker's names filter; the exit code is an attribute of die.
      assertEquals(
        await past([
          "--filter",
          "event=die",
          "--format",
          '{{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}} {{.From}}',
        ]),
        "ev 3 localhost/busybox:latest\n",
      );
      assertEquals(
        await past([
          "--filter",
          "type=volume",
          "--format",
          "{{.Action}} {{.Actor.ID}}",
        ]),
        "create evvol\n",
      );
      const [msg] = (await past([
        "--filter",
        "event=start",
        "--format",
        "{{json .}}",
      ])).trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(
        [msg.Type, msg.Action, msg.status, msg.id, msg.from, msg.scope],
        [
          "container",
          "start",
          "start",
          msg.Actor.ID,
          "localhost/busybox:latest",
          "local",
        ],
      );
      assertMatch(msg.Actor.ID, /^[0-9a-f]{64}$/);
      assert(
        Math.abs(msg.time - Date.now() / 1000) < 120 &&
          Math.floor(msg.timeNano / 1e9) === msg.time,
        `time ${msg.time}, timeNano ${msg.timeNano}`,
      );
      // An until in the past ends the reply; past events outside it are not there.
      assertEquals(
        await dockerOk(api, [
          "events",
          "--since",
          "10m",
          "--until",
          "5m",
        ]),
        "",
      );
      const bad = await docker(api, [
        "events",
        "--until",
        "0s",
        "--filter",
        "nosuch=x",
      ]);
      assertEquals(bad.code, 1);
      assertStringIncludes(bad.stderr, "nosuch is an invalid filter");

      // Streaming: only what happens from now on, as it happens.
      const live = dockerLines(api, [
        "events",
        "--filter",
        "type=container",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
      ]);
      try {
        // The client has its stream once the service has seen the request.
        await new Promise((ok) => setTimeout(ok, 1000));
        await dockerOk(api, [
          "run",
          "--rm",
          "--name",
          "later",
          "busybox",
          "true",
        ]);
        assertEquals(await live.until("destroy later"), [
          "create later",
          "init later",
          "start later",
          "die later",
          "destroy later",
        ]);
      } finally {
        await live.stop();
      }
      assertEquals(
        await dockerOk(api, ["run", "--rm", "busybox", "echo", "still"]),
        "still\n",
      );
    }),
});

Deno.test({
  name:
    "api: docker build with the legacy builder (args, labels, target, -f, -q, a failing RUN), and commit",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      const ctx = `${api.sb.dir}/ctx`;
      Deno.mkdirSync(`${ctx}/sub`, { recursive: true });
      Deno.writeTextFileSync(`${ctx}/data.txt`, "from the context\n");
      Deno.writeTextFileSync(
        `${ctx}/Dockerfile`,
        [
          "FROM busybox AS base",
          "ARG GREETING=hi",
          "COPY data.txt /data.txt",
          "RUN echo built-$GREETING | tee /greeting",
          'CMD ["cat", "/greeting", "/data.txt"]',
          "FROM base AS other",
          "RUN echo other > /greeting",
          "",
        ].join("\n"),
      );
      Deno.writeTextFileSync(
        `${ctx}/sub/Fails.dockerfile`,
        "FROM busybox\nRUN echo failing; exit 7\n",
      );
      const build = (args: string[]) =>
        client(api, "docker", ["build", ...args], {
          cwd: ctx,
          env: { DOCKER_BUILDKIT: "0" },
        });
      const b = await build([
        "-t",
        "built",
        "--build-arg",
        "GREETING=there",
        "--label",
        "made=by-api",
        "--target",
        "base",
        ".",
      ]);
      assertEquals(b.code, 0, b.stderr);
      // The RUN step's output comes in the stream.
      assertStringIncludes(b.stdout, "built-there\n");
      assertMatch(b.stdout, /Successfully built [0-9a-f]{12}\n/);
      assertStringIncludes(
        b.stdout,
        "Successfully tagged localhost/built:latest",
      );
      assertEquals(
        await dockerOk(api, ["run", "--rm", "built"]),
        "built-there\nfrom the context\n",
      );
      assertEquals(
        await dockerOk(api, [
          "inspect",
          "--format",
          "{{.Config.Labels.made}}",
          "built",
        ]),
        "by-api\n",
      );
      // -q prints the id only; the whole file builds the last stage.
      const q = await build(["-q", "-t", "other", "."]);
      assertEquals(q.code, 0, q.stderr);
      assertMatch(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
      assertEquals(
        await dockerOk(api, ["inspect", "--format", "{{.Id}}", "other"]),
        q.stdout,
      );
      assertEquals(
        await dockerOk(api, ["run", "--rm", "other"]),
        "other\nfrom the context\n",
      );
      const fail = await build(["-f", "sub/Fails.dockerfile", "."]);
      assertEquals(fail.code, 1);
      assertStringIncludes(fail.stdout, "failing");
      assertStringIncludes(fail.stderr + fail.stdout, "exit status 7");
      const escape = await http(api, "POST", "/build?dockerfile=../x", "");
      assertEquals(escape.status, 400, escape.body);
      assertStringIncludes(escape.body, "must be within the build context");
      // No step container is left behind.
      assertEquals(await dockerOk(api, ["ps", "-aq"]), "");

      await dockerDetached(api, "tocommit", [
        "busybox",
        "sh",
        "-c",
        "echo made > /made; sleep 100",
      ]);
      await dockerOk(api, ["exec", "tocommit", "test", "-f", "/made"]);
      const id = await dockerOk(api, [
        "commit",
        "-c",
        'CMD ["cat", "/made"]',
        "-m",
        "a message",
        "tocommit",
        "committed:v1",
      ]);
      assertMatch(id, /^sha256:[0-9a-f]{64}\n$/);
      assertEquals(
        await dockerOk(api, ["run", "--rm", "committed:v1"]),
        "made\n",
      );
      assertStringIncludes(
        await dockerOk(api, [
          "history",
          "--format",
          "{{.Comment}}",
          "committed:v1",
        ]),
        "a message",
      );
      const none = await docker(api, ["commit", "nosuch", "x"]);
      assertEquals(none.code, 1);
      await dockerOk(api, ["rm", "-f", "tocommit"]);
    }),
});

Deno.test({
  name:
    "api: a container's health in docker inspect and ps, as Docker shows it",
  ignore: NO_DOCKER,
  fn: () =>
    withApi(async (api) => {
      await dockerDetached(api, "checked", [
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/ok; sleep 100",
      ]);
      await dockerDetached(api, "slow", [
        "--health-cmd",
        "true",
        "--health-interval",
        "1h",
        "busybox",
        "sleep",
        "100",
      ]);
      await dockerDetached(api, "plain", ["busybox", "sleep", "100"]);
      const health = async () =>
        JSON.parse(await dockerOk(api, ["inspect", "checked"]))[0].State.Health;
      const status = async () =>
        (await dockerOk(api, ["ps", "--format", "{{.Names}} {{.Status}}"]))
          .trim().split("\n").sort();
      for (let i = 0; i < 100 && (await health()).Status !== "healthy"; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
      }
      const h = await health();
      assertEquals([h.Status, h.FailingStreak], ["healthy", 0]);
      assertEquals(h.Log[0].ExitCode, 0);
      const [checked, plain, slow] = await status();
      // Docker's words: no "ago", "health: starting" before the first check.
      assertMatch(checked, /^checked Up .* \(healthy\)$/);
      assertMatch(plain, /^plain Up [^()]*$/);
      assertMatch(slow, /^slow Up .* \(health: starting\)$/);
      assert(!/ ago/.test(checked + plain + slow), checked);
      assertEquals(
        await dockerOk(api, [
          "ps",
          "--filter",
          "health=healthy",
          "--format",
          "{{.Names}}",
        ]),
        "checked\n",
      );
      assertEquals(
        await dockerOk(api, [
          "inspect",
          "--format",
          "{{.Config.Healthcheck.Test}}",
          "checked",
        ]),
        "[CMD-SHELL test -f /tmp/ok]\n",
      );
      // Docker shows no Health without a check.
      assertEquals(
        await dockerOk(api, [
          "inspect",
          "--format",
          "{{.State.Health}}",
          "plain",
        ]),
        "<nil>\n",
      );
      await dockerOk(api, ["exec", "checked", "rm", "/tmp/ok"]);
      for (let i = 0; i < 100 && (await health()).Status !== "unhealthy"; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
      }
      assertEquals((await health()).Status, "unhealthy");
      assertMatch((await status())[0], /^checked Up .* \(unhealthy\)$/);
      await dockerOk(api, ["rm", "-f", "checked", "plain", "slow"]);
    }),
});

async function waitForPort(port: number) {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

Deno.test({
  name:
    "api: socket activation serves the socket systemd passes, and leaves it",
  ignore: !has("systemd-socket-activate") || !has("curl"),
  fn: () =>
    withSandbox(async (sb) => {
      const socket = `${sb.dir}/act.sock`;
      // systemd-socket-activate listens, then execs ptd on the first
      // connection with LISTEN_FDS=1 and the socket as fd 3.
      const activator = new Deno.Command("systemd-socket-activate", {
        args: ["-l", socket, ...ptdArgv(["system", "service", "--time", "1"])],
        env: sb.env,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      await waitForPath(socket);
      const curl = (path: string) =>
        new Deno.Command("curl", {
          args: ["-s", "--unix-socket", socket, `http://ptd${path}`],
          stdout: "piped",
        }).output();
      assertEquals(dec.decode((await curl("/_ping")).stdout), "OK");
      const v = JSON.parse(dec.decode((await curl("/version")).stdout));
      assertEquals(v.ApiVersion, "1.41");
      // Idle: the service exits; systemd's socket is not removed.
      const status = await activator.status;
      assertEquals(status.code, 0);
      assert((await Deno.lstat(socket)).isSocket, "the socket was removed");
      await activator.stderr.cancel();
    }),
});
