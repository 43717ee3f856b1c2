/**
 * Issue 5's "done when", rootless as a new user would run it. All traffic
 * stays on the host's 127.0.0.1 and inside the namespaces the tests create.
 */
import dgram from "node:dgram";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import { storeBusyboxImage } from "../busybox_image.ts";
import {
  freePort,
  ptd,
  ROOTLESS,
  type Sandbox,
  webRoot,
  withSandbox,
} from "../helpers.ts";

const BODY = "hello from ptd\n";

function withRoot(fn: (sb: Sandbox, root: string) => Promise<void>) {
  return withSandbox((sb) => {
    const root = webRoot(sb.dir, BODY);
    return fn(sb, root);
  });
}

const UDP_ECHO = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
`;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** GETs a URL on 127.0.0.1, retrying while the server inside starts. */
async function get(port: number, path = "/"): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      return await r.text();
    } catch (e) {
      last = e;
      await sleep(100);
    }
  }
  throw last;
}

function httpd(root: string, publish: string[], name: string): string[] {
  return [
    "run",
    "-d",
    "--name",
    name,
    ...publish.flatMap((p) => ["-p", p]),
    "--rootfs",
    root,
    "httpd",
    "-f",
    "-p",
    "80",
    "-h",
    "/www",
  ];
}

Deno.test({
  name:
    "network: -p publishes TCP; port, ps and inspect show it; rm -f frees the port at once",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const port = freePort();
      const r = await ptd(sb, httpd(root, [`127.0.0.1:${port}:80`], "web"));
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await get(port), BODY);

      const p = await ptd(sb, ["port", "web"]);
      assertEquals(p.stdout, `80/tcp -> 127.0.0.1:${port}\n`, p.stderr);
      const ps = await ptd(sb, ["ps", "--format", "{{.Ports}}"]);
      assertEquals(ps.stdout.trim(), `127.0.0.1:${port}->80/tcp`, ps.stderr);
      const ins = await ptd(sb, ["inspect", "web"]);
      const net = JSON.parse(ins.stdout)[0].NetworkSettings;
      assertEquals(net.IPAddress, "10.0.2.100");
      assertEquals(net.Ports, {
        "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }],
      });

      assertEquals((await ptd(sb, ["rm", "-f", "web"])).code, 0);
      const again = await ptd(sb, httpd(root, [`127.0.0.1:${port}:80`], "w2"));
      assertEquals(again.code, 0, again.stderr);
      assertEquals(await get(port), BODY);
    }),
});

Deno.test({
  name:
    "network: two containers publish different ports at once; -p CTR picks a free one",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const a = freePort();
      assertEquals(
        (await ptd(sb, httpd(root, [`127.0.0.1:${a}:80`], "a"))).code,
        0,
      );
      const b = await ptd(sb, httpd(root, ["127.0.0.1::80"], "b"));
      assertEquals(b.code, 0, b.stderr);
      const line = (await ptd(sb, ["port", "b", "80"])).stdout.trim();
      assertMatch(line, /^127\.0\.0\.1:\d+$/);
      const bPort = Number(line.split(":")[1]);
      assert(bPort !== a);
      assertEquals(await get(a), BODY);
      assertEquals(await get(bPort), BODY);
    }),
});

for (
  const [how, network] of [
    ["through ptd's UDP proxy", "slirp4netns"],
    ["through slirp4netns itself", "slirp4netns:allow_host_loopback=true"],
    ["on a named network, through ptd's UDP proxy", "udpnet"],
  ]
) {
  Deno.test({
    name:
      `network: a UDP port published the same way echoes to a client on the host's loopback, ${how}`,
    ignore: !ROOTLESS,
    fn: () =>
      withRoot(async (sb) => {
        const port = freePort();
        if (network === "udpnet") {
          assertEquals((await ptd(sb, ["network", "create", network])).code, 0);
        }
        // busybox has no UDP server; the host's python3 (the host's root as
        // the container's) is one.
        const r = await ptd(sb, [
          "run",
          "-d",
          "--network",
          network,
          "-p",
          `127.0.0.1:${port}:5353/udp`,
          "--rootfs",
          "/",
          "python3",
          "-c",
          UDP_ECHO,
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertEquals(r.stderr, "");
        const sock = dgram.createSocket("udp4");
        try {
          const reply = new Promise<string>((ok) =>
            sock.on("message", (m) => ok(new TextDecoder().decode(m)))
          );
          let got: string | undefined;
          reply.then((m) => (got = m));
          for (let i = 0; i < 50 && got === undefined; i++) {
            sock.send("ping\n", port, "127.0.0.1");
            await sleep(100);
          }
          assertEquals(got, "ping\n");
        } finally {
          sock.close();
        }
        // rm -f frees the port at once, proxy and all.
        assertEquals((await ptd(sb, ["rm", "-f", r.stdout.trim()])).code, 0);
        const again = dgram.createSocket("udp4");
        await new Promise<void>((ok, fail) => {
          again.once("error", fail);
          again.bind(port, "127.0.0.1", ok);
        });
        again.close();
      }),
  });
}

Deno.test({
  name:
    "network: a taken host port is a one-line error and leaves no container",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      const run = () =>
        ptd(sb, [
          "run",
          "--rm",
          "-p",
          `127.0.0.1:${port}:80`,
          "--rootfs",
          root,
          "true",
        ]);
      let r;
      try {
        r = await run();
      } finally {
        l.close();
      }
      assertEquals(r.code, 125);
      assertEquals(
        r.stderr,
        `Error: cannot publish 127.0.0.1:${port}/tcp: address already in use\n`,
      );
      assertEquals((await ptd(sb, ["ps", "-a", "-q"])).stdout, "");
      // A foreground run frees its port as it ends: the next one takes it.
      for (let i = 0; i < 2; i++) {
        const ok = await run();
        assertEquals(ok.code, 0, ok.stderr);
      }
    }),
});

Deno.test({
  name:
    "network: start with a port taken since create fails in one line, without hanging",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const port = freePort();
      const c = await ptd(sb, httpd(root, [`127.0.0.1:${port}:80`], "c1"));
      assertEquals(c.code, 0, c.stderr);
      assertEquals((await ptd(sb, ["stop", "-t", "0", "c1"])).code, 0);
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      let r;
      try {
        r = await ptd(sb, ["start", "c1"]);
      } finally {
        l.close();
      }
      assertEquals(r.code, 125);
      assertEquals(
        r.stderr,
        `Error: cannot publish 127.0.0.1:${port}/tcp: address already in use\n`,
      );
      assertEquals((await ptd(sb, ["start", "c1"])).code, 0);
      assertEquals(await get(port), BODY);
    }),
});

Deno.test({
  name:
    "network: the host's loopback is reachable only with allow_host_loopback",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const ac = new AbortController();
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
        () => new Response("host says hi"),
      );
      try {
        const url = `http://10.0.2.2:${server.addr.port}/`;
        const run = (network: string) =>
          ptd(sb, [
            "run",
            "--rm",
            "--network",
            network,
            "--rootfs",
            root,
            "wget",
            "-q",
            "-O",
            "-",
            url,
          ]);
        const denied = await run("slirp4netns");
        assert(denied.code !== 0, denied.stdout);
        const allowed = await run("slirp4netns:allow_host_loopback=true");
        assertEquals(allowed.stdout, "host says hi", allowed.stderr);
      } finally {
        ac.abort();
        await server.finished;
      }
    }),
});

Deno.test({
  name:
    "network: none has only lo; resolv.conf, --dns*, --add-host; pasta publishes too",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const none = await ptd(sb, [
        "run",
        "--rm",
        "--network",
        "none",
        "--rootfs",
        root,
        "sh",
        "-c",
        "ip -o link | cut -d: -f2",
      ]);
      assertEquals(none.stdout, " lo\n", none.stderr);

      const etc = await ptd(sb, [
        "run",
        "--rm",
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "example.test",
        "--dns-option",
        "ndots:1",
        "--add-host",
        "db:192.0.2.10",
        "--rootfs",
        root,
        "sh",
        "-c",
        "cat /etc/resolv.conf; grep '^192.0.2.10' /etc/hosts; ip -o link | grep -c tap0",
      ]);
      assertEquals(
        etc.stdout,
        "nameserver 192.0.2.53\nsearch example.test\noptions ndots:1\n192.0.2.10\tdb\n1\n",
        etc.stderr,
      );
      const dflt = await ptd(sb, [
        "run",
        "--rm",
        "--rootfs",
        root,
        "head",
        "-1",
        "/etc/resolv.conf",
      ]);
      assertStringIncludes(dflt.stdout, "nameserver 10.0.2.3");

      const port = freePort();
      const r = await ptd(sb, [
        "run",
        "-d",
        "--network",
        "pasta",
        ...httpd(root, [`127.0.0.1:${port}:80`], "p").slice(1),
      ]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await get(port), BODY);
      assertEquals((await ptd(sb, ["rm", "-f", "p"])).code, 0);
      // The watchdog takes pasta down with the container's monitor.
      let free = false;
      for (let i = 0; i < 50 && !free; i++) {
        try {
          Deno.listen({ hostname: "127.0.0.1", port }).close();
          free = true;
        } catch {
          await sleep(100);
        }
      }
      assert(free, "pasta still holds the port");
    }),
});

Deno.test({
  name: "network: -P publishes the image's EXPOSE ports on free host ports",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb) => {
      await storeBusyboxImage(sb, "localhost/web:latest", {
        changes: ["EXPOSE 80", 'CMD ["httpd", "-f", "-p", "80", "-h", "/"]'],
      });
      const r = await ptd(sb, ["run", "-d", "--name", "w", "-P", "web"]);
      assertEquals(r.code, 0, r.stderr);
      const line = (await ptd(sb, ["port", "w", "80/tcp"])).stdout.trim();
      assertMatch(line, /^0\.0\.0\.0:\d+$/);
      assertEquals(
        await get(Number(line.split(":")[1]), "/hello.txt"),
        "hello from the image\n",
      );
    }),
});

/**
 * Starts container `name` with a web server on 127.0.0.1:8080 of its own
 * network namespace: only a process inside that namespace reaches it.
 */
async function loopbackServer(sb: Sandbox, root: string, name: string) {
  const r = await ptd(sb, [
    "run",
    "-d",
    "--name",
    name,
    "--rootfs",
    root,
    "httpd",
    "-f",
    "-p",
    "127.0.0.1:8080",
    "-h",
    "/www",
  ]);
  assertEquals(r.code, 0, r.stderr);
}

/** A shell line that GETs the loopback server, retrying while it starts. */
const GET_LOOPBACK =
  "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.2; done";

/** Runs `sh -c script` in a new container on --network `network`. */
function runJoined(sb: Sandbox, root: string, network: string, script: string) {
  return ptd(sb, [
    "run",
    "--rm",
    "--network",
    network,
    "--hostname",
    "bee",
    "--rootfs",
    root,
    "sh",
    "-c",
    script,
  ]);
}

/** Asserts a one-line ptd error with exit `code` (125: ptd's own errors). */
function assertRefused(
  r: { code: number; stderr: string },
  re: RegExp,
  code = 125,
) {
  assertEquals(r.code, code, r.stderr);
  assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  assertMatch(r.stderr, re);
}

Deno.test({
  name:
    "network: --network container:A shares A's namespace (its loopback, tap0), resolv.conf and hosts; the hostname is its own",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      await loopbackServer(sb, root, "a");
      const r = await runJoined(
        sb,
        root,
        "container:a",
        `${GET_LOOPBACK}; grep -c tap0: /proc/net/dev; head -1 /etc/resolv.conf; hostname; grep -c ' a$' /etc/hosts`,
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, `${BODY}1\nnameserver 10.0.2.3\nbee\n1\n`);
    }),
});

Deno.test({
  name:
    "network: --network ns:/proc/PID/ns/net joins a running container's namespace",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      await loopbackServer(sb, root, "a");
      const pid = (await ptd(sb, ["inspect", "-f", "{{.State.Pid}}", "a"]))
        .stdout.trim();
      assertMatch(pid, /^[1-9]\d*$/);
      const r = await runJoined(
        sb,
        root,
        `ns:/proc/${pid}/ns/net`,
        `${GET_LOOPBACK}; grep -c tap0: /proc/net/dev`,
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, `${BODY}1\n`);
    }),
});

Deno.test({
  name:
    "network: container: of a stopped or missing container, --dns with it, ns: of no namespace: one-line errors, no container; -p with it discarded as Podman",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      await loopbackServer(sb, root, "a");
      const made = await ptd(sb, [
        "create",
        "--name",
        "s",
        "--rootfs",
        root,
        "true",
      ]);
      assertEquals(made.code, 0, made.stderr);
      const join = (network: string, ...flags: string[]) =>
        ptd(sb, [
          "run",
          "--network",
          network,
          ...flags,
          "--rootfs",
          root,
          "true",
        ]);
      assertRefused(
        await join("container:s"),
        /cannot join network of a non running container: s/,
      );
      assertRefused(await join("container:nope"), /no container .*"nope"/);
      const published = await join(
        "container:a",
        "--rm",
        "-p",
        "127.0.0.1::80",
      );
      assertEquals(published.code, 0, published.stderr);
      assertEquals(
        published.stderr,
        "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use\n",
      );
      assertRefused(
        await join("container:a", "--dns", "10.0.0.1"),
        /conflicting options: dns and the network mode: container/,
      );
      assertRefused(
        await join("ns:/nonexistent/net"),
        /network namespace \/nonexistent\/net: cannot be opened/,
      );
      const ps = await ptd(sb, ["ps", "-a", "--format", "{{.Names}}"]);
      assertEquals(ps.stdout.trim().split("\n").sort(), ["a", "s"]);
    }),
});

Deno.test({
  name:
    "network: rm of a container whose namespace another shares is refused without --depend",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      await loopbackServer(sb, root, "a");
      const b = await ptd(sb, [
        "run",
        "-d",
        "--name",
        "b",
        "--network",
        "container:a",
        "--rootfs",
        root,
        "sleep",
        "60",
      ]);
      assertEquals(b.code, 0, b.stderr);
      const ins = JSON.parse((await ptd(sb, ["inspect", "b"])).stdout)[0];
      assertEquals(ins.HostConfig.NetworkMode, "container:a");
      assertEquals(ins.NetworkSettings.IPAddress, "");
      assertEquals((await ptd(sb, ["stop", "-t", "1", "a"])).code, 0);
      assertRefused(
        await ptd(sb, ["rm", "a"]),
        /container \w+ has dependent containers which must be removed before it: \w+: container already exists/,
        125, // Podman's code for a container others depend on
      );
      // The namespace outlives a: b still has its loopback.
      const ex = await ptd(sb, [
        "exec",
        "b",
        "grep",
        "-c",
        "lo:",
        "/proc/net/dev",
      ]);
      assertEquals(ex.stdout, "1\n", ex.stderr);
      // prune reports a and removes the other stopped containers.
      const c = await ptd(sb, [
        "create",
        "--name",
        "c",
        "--rootfs",
        root,
        "true",
      ]);
      assertEquals(c.code, 0, c.stderr);
      const pruned = await ptd(sb, ["container", "prune", "-f"]);
      assertEquals(pruned.code, 125);
      assertEquals(pruned.stdout, `${c.stdout}`);
      assertStringIncludes(pruned.stderr, "has dependent containers");
      assertEquals((await ptd(sb, ["rm", "-f", "--depend", "a"])).code, 0);
    }),
});
