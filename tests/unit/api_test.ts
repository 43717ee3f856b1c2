/**
 * The REST API's parts without a service: its HTTP server over a scripted
 * connection (keep-alive, both body framings, HEAD, hijack), the router's
 * version prefixes and error bodies, Docker's create body as the engine's
 * request, the path stat read from a tar's head, listening URIs, and
 * Docker's stats and event documents.
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  type HttpReply,
  type HttpRequest,
  type RawConn,
  serveConnection,
} from "../../src/api/http.ts";
import { router } from "../../src/api/router.ts";
import { createRequestOf } from "../../src/api/create_body.ts";
import { statOfTar } from "../../src/api/archive.ts";
import { parseEndpoint } from "../../src/api/service.ts";
import { type Reading, statsDoc } from "../../src/api/stats.ts";
import { dockerEventJson } from "../../src/api/events.ts";
import { Engine } from "../../src/engine/engine.ts";
import { conflict } from "../../src/runtime/errors.ts";
import { isKind } from "../../src/runtime/errors.ts";
import { makeTar } from "../fixtures.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connection that delivers `chunks`, then its end; records what is written. */
class Scripted implements RawConn {
  out = "";
  closedWrite = false;
  closed = false;
  /** `idle`: after the chunks the client stays, sending nothing more. */
  constructor(readonly chunks: string[], readonly idle = false) {}

  read(p: Uint8Array): Promise<number | null> {
    const c = this.chunks.shift();
    if (c === undefined) {
      return this.idle ? new Promise(() => {}) : Promise.resolve(null);
    }
    const b = enc.encode(c);
    p.set(b);
    return Promise.resolve(b.length);
  }

  /** Takes at most 7 bytes a write, as a full socket buffer may. */
  write(data: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Error("closed"));
    const n = Math.min(7, data.length);
    this.out += dec.decode(data.subarray(0, n));
    return Promise.resolve(n);
  }

  closeWrite(): Promise<void> {
    this.closedWrite = true;
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }
}

/** Replies to each request with what it was: method, path, query, body. */
async function echo(req: HttpRequest): Promise<HttpReply> {
  const body = dec.decode(await req.body());
  return {
    status: 200,
    body: `${req.method} ${req.path} ${req.query.get("a") ?? ""} [${body}]`,
  };
}

Deno.test("http: keep-alive requests, Content-Length and chunked bodies, HEAD", async () => {
  const conn = new Scripted([
    "POST /x?a=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",
    "loGET /y HTTP/1.1\r\n\r\n",
    "PUT /z HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "HEAD /h HTTP/1.1\r\n\r\n",
  ]);
  await serveConnection(conn, echo, { "Api-Version": "1.41" });
  const replies = conn.out.split(/(?=HTTP\/1\.1 )/);
  assertEquals(replies.length, 4);
  assert(replies[0].includes("Api-Version: 1.41\r\n"));
  assert(replies[0].endsWith("\r\n\r\nPOST /x 1 [hello]"), replies[0]);
  assert(replies[1].endsWith("GET /y  []"), replies[1]);
  assert(replies[2].endsWith("PUT /z  [abcde]"), replies[2]);
  // HEAD: the length of the body it would have, and no body.
  assert(replies[3].endsWith("Content-Length: 11\r\n\r\n"), replies[3]);
  assert(conn.closed);
});

Deno.test("http: a streamed reply is chunked, and ends the connection", async () => {
  const conn = new Scripted(["GET /s HTTP/1.1\r\n\r\n"], true);
  await serveConnection(conn, () =>
    Promise.resolve({
      status: 200,
      body: (async function* () {
        yield enc.encode("one");
        yield enc.encode("three");
      })(),
    }), {});
  assert(
    conn.out.endsWith(
      "Transfer-Encoding: chunked\r\n\r\n3\r\none\r\n5\r\nthree\r\n0\r\n\r\n",
    ),
    conn.out,
  );
  assert(conn.closed);
});

Deno.test("http: a client gone mid-stream ends a reply waiting for its next chunk", async () => {
  const conn = new Scripted(["GET /wait HTTP/1.1\r\n\r\n"]);
  let signal: AbortSignal | undefined;
  await serveConnection(conn, (req) => {
    signal = req.signal;
    return Promise.resolve({
      status: 200,
      body: (async function* () {
        yield enc.encode("{");
        await new Promise(() => {}); // a wait that never ends
      })(),
    });
  }, {});
  assert(conn.closed);
  assert(signal?.aborted, "the handler was not told");
});

Deno.test("http: a hijack answers 101 to an upgrade and hands over the rest of the input", async () => {
  for (const upgrade of [true, false]) {
    const conn = new Scripted([
      `POST /attach HTTP/1.1\r\n${
        upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : ""
      }\r\nearly`,
      "late",
    ]);
    let input = "";
    await serveConnection(conn, () =>
      Promise.resolve({
        status: 200,
        hijack: async (io) => {
          for await (const b of io.input) input += dec.decode(b);
          await io.write(enc.encode("bye"));
          await io.closeWrite();
        },
      }), {});
    assertEquals(input, "earlylate");
    assert(conn.closedWrite);
    const status = conn.out.split("\r\n")[0];
    assertEquals(status, upgrade ? "HTTP/1.1 101 UPGRADED" : "HTTP/1.1 200 OK");
    assert(conn.out.endsWith("\r\n\r\nbye"));
    assertEquals(conn.out.includes("Upgrade: tcp"), upgrade);
  }
});

Deno.test("router: versioned and plain paths, Docker's error bodies", async () => {
  const e = new Engine({
    data: "/nonexistent",
    runtime: "/nonexistent",
    rootless: true,
  });
  const handler = router(e, [
    [
      "GET",
      "/things/:id/json",
      ({ params }) => Promise.resolve({ status: 200, body: params.id }),
    ],
    [
      "GET",
      "/images/:name*/json",
      ({ params }) => Promise.resolve({ status: 200, body: params.name }),
    ],
    ["POST", "/boom", () => Promise.reject(conflict("taken"))],
  ]);
  const req = (method: string, path: string) =>
    handler({
      method,
      path,
      query: new URLSearchParams(),
      headers: new Map(),
      body: () => Promise.resolve(new Uint8Array()),
      stream: async function* () {},
      signal: new AbortController().signal,
    });
  assertEquals((await req("GET", "/v1.41/things/a/json")).body, "a");
  assertEquals((await req("GET", "/things/b/json")).body, "b");
  assertEquals((await req("HEAD", "/v1.24/things/c/json")).body, "c");
  assertEquals(
    (await req("GET", "/images/registry:5000/a/b:1/json")).body,
    "registry:5000/a/b:1",
  );
  const boom = await req("POST", "/boom");
  assertEquals([boom.status, JSON.parse(String(boom.body))], [409, {
    message: "taken",
  }]);
  const none = await req("GET", "/nothing");
  assertEquals(none.status, 404);
  assert(JSON.parse(String(none.body)).message.includes("page not found"));
});

Deno.test("create body: Docker's fields as the engine's request", () => {
  const r = createRequestOf({
    Image: "busybox",
    Cmd: ["echo", "hi"],
    Entrypoint: null,
    Env: ["A=1"],
    Tty: true,
    OpenStdin: true,
    Labels: { l: "v" },
    StopSignal: "SIGINT",
    HostConfig: {
      AutoRemove: true,
      Binds: ["/tmp:/host:ro"],
      Mounts: [{ Type: "volume", Source: "data", Target: "/data" }],
      PortBindings: {
        "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
        "53/udp": [{ HostIp: "", HostPort: "" }],
      },
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      NetworkMode: "bridge",
      Memory: 0,
      PidsLimit: -1,
      LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
    },
  }, "web");
  assertEquals(r.name, "web");
  assertEquals([r.command, r.entrypoint, r.env], [["echo", "hi"], undefined, [
    "A=1",
  ]]);
  assertEquals(r.pull, "never");
  assertEquals(
    [r.host.autoRemove, r.host.tty, r.host.interactive, r.host.stopSignal],
    [true, true, true, "SIGINT"],
  );
  assertEquals(r.host.network, "private");
  assertEquals(r.host.restartPolicy, {
    name: "on-failure",
    maximumRetryCount: 3,
  });
  // Podman reads max-size in decimal units, its API as its CLI.
  assertEquals(r.host.logMaxSize, 1_000_000);
  assertEquals(
    r.mounts?.map((m) => [m.type, m.source, m.destination, m.readonly]),
    [["bind", "/tmp", "/host", true], ["volume", "data", "/data", false]],
  );
  assertEquals(
    r.host.ports?.map((
      p,
    ) => [p.hostIp, p.hostPort, p.containerPort, p.protocol]),
    [["127.0.0.1", 8080, 80, "tcp"], ["", 0, 53, "udp"]],
  );
  assertEquals(
    createRequestOf({ Image: "x", Entrypoint: [""] }).entrypoint,
    [],
  );
});

Deno.test("create body: wrong types and settings ptd lacks are 400s naming the field", () => {
  const refuse = (body: Record<string, unknown>, field: string) => {
    const err = assertThrows(() => createRequestOf(body));
    assert(isKind(err, "invalid"), String(err));
    assert((err as Error).message.includes(field), (err as Error).message);
  };
  refuse({}, "config cannot be empty");
  refuse({ Image: 5 }, "Config.Image");
  refuse({ Image: "x", Cmd: [1] }, "Config.Cmd");
  refuse({ Image: "x", HostConfig: { Memory: 1 << 20 } }, "HostConfig.Memory");
  refuse({ Image: "x", HostConfig: { Links: ["a:b"] } }, "HostConfig.Links");
  refuse(
    { Image: "x", HostConfig: { Privileged: "yes" } },
    "HostConfig.Privileged",
  );
  refuse(
    { Image: "x", HostConfig: { SecurityOpt: ["seccomp=x"] } },
    "SecurityOpt",
  );
  refuse(
    {
      Image: "x",
      HostConfig: { NetworkMode: "host" },
      NetworkingConfig: { EndpointsConfig: { mynet: {} } },
    },
    "conflicting options",
  );
  refuse(
    {
      Image: "x",
      HostConfig: { NetworkMode: "mynet" },
      NetworkingConfig: { EndpointsConfig: { mynet: { Links: ["a:b"] } } },
    },
    "EndpointSettings.Links",
  );
});

Deno.test("create body: a named network takes its endpoint's aliases and address", () => {
  const r = createRequestOf({
    Image: "x",
    HostConfig: { NetworkMode: "mynet" },
    NetworkingConfig: {
      EndpointsConfig: {
        mynet: { Aliases: ["web"], IPAMConfig: { IPv4Address: "10.9.0.5" } },
        other: null,
      },
    },
  });
  assertEquals(r.host.network, "mynet,other");
  assertEquals(r.host.networkMode.networks, [
    { name: "mynet", aliases: ["web"], ip: "10.9.0.5" },
    { name: "other", aliases: [] },
  ]);
  for (const mode of [undefined, "default", "bridge"]) {
    const own = createRequestOf({
      Image: "x",
      HostConfig: { NetworkMode: mode },
    });
    assertEquals(own.host.networkMode.kind, "slirp4netns");
  }
});

Deno.test("archive: the stat of a tar's first entry, as Go's FileMode", async () => {
  const dir = await makeTar([{ name: "d/", mode: 0o755, type: "directory" }]);
  const d = statOfTar(dir, "/etc/")!;
  assertEquals([d.name, d.mode], ["etc", 2 ** 31 + 0o755]);
  const file = await makeTar([{
    name: "f",
    mode: 0o4644,
    data: enc.encode("abc"),
  }]);
  const f = statOfTar(file, "/bin/f")!;
  assertEquals([f.name, f.size, f.mode], ["f", 3, 2 ** 23 + 0o644]);
  const link = await makeTar([{
    name: "l",
    type: "symlink",
    linkname: "/target",
  }]);
  const l = statOfTar(link, "/l")!;
  assertEquals([l.mode & 2 ** 27, l.linkTarget], [2 ** 27, "/target"]);
  // A long name comes with a PAX header first; the entry after it counts.
  const long = await makeTar([{
    name: "x".repeat(120),
    mode: 0o600,
    data: enc.encode("z"),
  }]);
  assertEquals(statOfTar(long, "/p")!.size, 1);
  assertEquals(statOfTar(file.subarray(0, 100), "/f"), undefined);
});

Deno.test("service: listening URIs", () => {
  assertEquals(parseEndpoint(undefined, "/run/user/1/ptd"), {
    kind: "unix",
    path: "/run/user/1/ptd/ptd.sock",
  });
  assertEquals(parseEndpoint("unix:///tmp/a.sock", "/r"), {
    kind: "unix",
    path: "/tmp/a.sock",
  });
  assertEquals(parseEndpoint("tcp://127.0.0.1:2375", "/r"), {
    kind: "tcp",
    hostname: "127.0.0.1",
    port: 2375,
  });
  for (const bad of ["http://x", "unix://rel", "tcp://host", "tcp://h:99999"]) {
    assertThrows(() => parseEndpoint(bad, "/r"));
  }
});

Deno.test("api: a stats document from cgroup figures, as Docker's client reads it", () => {
  const figures = (cpuNano: number) => ({
    id: "c",
    name: "web",
    running: true,
    at: 0,
    cpuNano,
    memUsage: 5e6,
    memLimit: 1e9,
    pids: 3,
    blockInput: 7,
    blockOutput: 9,
    cpuPercent: 0,
    avgCpu: 0,
    memPercent: 0.5,
    netInput: 11,
    netOutput: 13,
  });
  const prev: Reading = { at: "t0", system: 8e9, s: figures(1e9), pids: 3 };
  const now: Reading = { at: "t1", system: 10e9, s: figures(2e9), pids: 3 };
  const doc = statsDoc("c", "web", now, prev);
  // The docker client's CPU %: container delta over host delta, times CPUs.
  const cpu = doc.cpu_stats, pre = doc.precpu_stats;
  assertEquals(
    (cpu.cpu_usage.total_usage - pre.cpu_usage.total_usage) /
      (cpu.system_cpu_usage - pre.system_cpu_usage),
    0.5,
  );
  assertEquals(doc.preread, "t0");
  assertEquals(
    [doc.memory_stats.usage, doc.memory_stats.limit, doc.pids_stats.current],
    [5e6, 1e9, 3],
  );
  assertEquals(
    doc.blkio_stats.io_service_bytes_recursive?.map((b) => [b.op, b.value]),
    [["read", 7], ["write", 9]],
  );
  assertEquals(doc.networks, { eth0: { rx_bytes: 11, tx_bytes: 13 } });
  // No figures (no delegation): zeros, the host's memory as the limit.
  const zero = statsDoc("c", "web", { at: "t", system: 0, pids: 1 });
  assertEquals(zero.cpu_stats.cpu_usage.total_usage, 0);
  assertEquals(zero.memory_stats.limit, Deno.systemMemoryInfo().total);
});

Deno.test("api: an event as Docker's message, its names and exact timeNano", () => {
  const died = JSON.parse(dockerEventJson({
    ContainerExitCode: 3,
    ID: "abc",
    Image: "busybox",
    Name: "web",
    Status: "died",
    Time: "2026-12-06T09:18:10.468142091Z",
    Type: "container",
    Attributes: { l: "v" },
  }));
  assertEquals(died, {
    status: "die",
    id: "abc",
    from: "busybox",
    Type: "container",
    Action: "die",
    Actor: {
      ID: "abc",
      Attributes: { l: "v", image: "busybox", name: "web", exitCode: "3" },
    },
    scope: "local",
    time: 1796548690,
    timeNano: 1796548690468142091,
  });
  assert(
    dockerEventJson({
      Status: "create",
      Time: "2026-12-06T09:18:10.4Z",
      Type: "volume",
      Name: "v",
      Attributes: null,
    }).endsWith('"timeNano":1796548690400000000}'),
  );
  const names = (Status: string, Type: "container" | "image") =>
    JSON.parse(
      dockerEventJson({
        Status,
        Type,
        Time: "2026-12-06T09:18:10Z",
        Attributes: null,
      }),
    )
      .Action;
  assertEquals(
    [
      names("remove", "container"),
      names("remove", "image"),
      names("exec_died", "container"),
    ],
    ["destroy", "delete", "exec_die"],
  );
});

Deno.test("api: Config.Healthcheck as the container's check, Docker's zeros as defaults", () => {
  const req = createRequestOf({
    Image: "busybox",
    Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 0, Timeout: 2e9 },
  });
  assertEquals(req.host.healthcheck, {
    Test: ["CMD-SHELL", "true"],
    Interval: 30e9,
    Timeout: 2e9,
    Retries: 3,
  });
  assertEquals(
    createRequestOf({ Image: "busybox" }).host.healthcheck,
    undefined,
  );
});
