/** The pure parts of networking: -p, --network, resolv.conf, /etc/hosts, PORTS. */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import { closeFd } from "../../ffi/fd.ts";
import { udpBound } from "../../ffi/socket.ts";
import type { HostConfig } from "../../src/container/config.ts";
import { resolveNetwork } from "../../src/container/network.ts";
import { ContainerStore } from "../../src/container/store.ts";
import { PtdError } from "../../src/runtime/errors.ts";
import { networkSettings } from "../../src/engine/create.ts";
import { addHostLines, resolvConf } from "../../src/network/etc.ts";
import {
  hasStack,
  joinsNetwork,
  type NetworkMode,
  parseNetworkMode,
  privateNetwork,
} from "../../src/network/mode.ts";
import {
  exposedMappings,
  formatPorts,
  parsePublish,
  PortInUseError,
  portLines,
  type PortMapping,
  portsDoc,
  reservePorts,
} from "../../src/network/ports.ts";

const tcp = (
  hostIp: string,
  hostPort: number,
  containerPort: number,
): PortMapping => ({ hostIp, hostPort, containerPort, protocol: "tcp" });

Deno.test("-p: every form Docker takes", () => {
  assertEquals(parsePublish("80"), [tcp("", 0, 80)]);
  assertEquals(parsePublish("8080:80"), [tcp("", 8080, 80)]);
  assertEquals(parsePublish("127.0.0.1:18080:80"), [
    tcp("127.0.0.1", 18080, 80),
  ]);
  assertEquals(parsePublish("127.0.0.1::80"), [tcp("127.0.0.1", 0, 80)]);
  assertEquals(parsePublish("[::1]:8080:80"), [tcp("::1", 8080, 80)]);
  assertEquals(parsePublish("53:53/udp"), [
    { hostIp: "", hostPort: 53, containerPort: 53, protocol: "udp" },
  ]);
  assertEquals(parsePublish("8000-8001:80-81"), [
    tcp("", 8000, 80),
    tcp("", 8001, 81),
  ]);
  assertEquals(parsePublish("80-81"), [tcp("", 0, 80), tcp("", 0, 81)]);
});

Deno.test("-p: mistakes are one-line errors", () => {
  for (
    const bad of [
      "",
      "x",
      "0",
      "70000",
      "80/sctp",
      "1.2.3:80:80",
      "300.1.1.1:80:80",
      "8000-8002:80-81",
      "81-80",
      "a:b:c:d",
    ]
  ) {
    assertThrows(() => parsePublish(bad), /-p /);
  }
});

Deno.test("-P: the image's exposed ports on free host ports", () => {
  assertEquals(exposedMappings(["80/tcp", "53/udp", "8080"]), [
    tcp("", 0, 80),
    { hostIp: "", hostPort: 0, containerPort: 53, protocol: "udp" },
    tcp("", 0, 8080),
  ]);
});

Deno.test("PORTS, port and inspect texts", () => {
  const ports = [
    tcp("127.0.0.1", 8000, 80),
    tcp("127.0.0.1", 8001, 81),
    { hostIp: "", hostPort: 5353, containerPort: 53, protocol: "udp" as const },
  ];
  assertEquals(
    formatPorts(ports),
    "127.0.0.1:8000-8001->80-81/tcp, 0.0.0.0:5353->53/udp",
  );
  assertEquals(formatPorts([]), "");
  // a run needs both sides consecutive
  assertEquals(
    formatPorts([tcp("", 8000, 80), tcp("", 8001, 90)]),
    "0.0.0.0:8000->80/tcp, 0.0.0.0:8001->90/tcp",
  );
  assertEquals(portLines([tcp("::1", 1, 2)]), ["2/tcp -> [::1]:1"]);
  assertEquals(portsDoc([tcp("127.0.0.1", 8000, 80)]), {
    "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8000" }],
  });
});

Deno.test("--network: stacks, options, none and host", () => {
  const slirp: NetworkMode = {
    kind: "slirp4netns",
    allowHostLoopback: false,
    mtu: 0,
  };
  assertEquals(parseNetworkMode("private"), slirp);
  assertEquals(parseNetworkMode("slirp4netns"), slirp);
  assertEquals(
    parseNetworkMode("slirp4netns:allow_host_loopback=true,mtu=1500"),
    { ...slirp, allowHostLoopback: true, mtu: 1500 },
  );
  assertEquals(parseNetworkMode("pasta").kind, "pasta");
  assertEquals(parseNetworkMode("none").kind, "none");
  assertEquals(parseNetworkMode("host").kind, "host");
  assert(!privateNetwork(parseNetworkMode("host")));
  assert(privateNetwork(parseNetworkMode("none")));
  assertThrows(() => parseNetworkMode("bridge"), /unsupported/);
  assertThrows(() => parseNetworkMode("slirp4netns:foo=1"), /foo/);
});

Deno.test("--network container:NAME and ns:PATH join another namespace", () => {
  const web = parseNetworkMode("container:web");
  assertEquals(web, {
    kind: "container",
    target: "web",
    allowHostLoopback: false,
    mtu: 0,
  });
  const ns = parseNetworkMode("ns:/proc/42/ns/net");
  assertEquals(ns.kind, "ns");
  assertEquals(ns.target, "/proc/42/ns/net");
  for (const m of [web, ns]) {
    assert(joinsNetwork(m) && privateNetwork(m) && !hasStack(m));
  }
  for (const v of ["host", "none", "private"]) {
    assert(!joinsNetwork(parseNetworkMode(v)));
  }
  assertThrows(() => parseNetworkMode("container"), /needs a container/);
  assertThrows(() => parseNetworkMode("container:"), /needs a container/);
  assertThrows(() => parseNetworkMode("ns:run/netns/x"), /absolute path/);
  assertThrows(() => parseNetworkMode("ns"), /absolute path/);
});

/** resolveNetwork's checks of a joined network, on an empty store. */
async function joinRefused(
  host: Partial<HostConfig>,
  network = "container:web",
): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const store = new ContainerStore({
      data: dir,
      runtime: dir,
      rootless: true,
    });
    const e = await assertRejects(() =>
      resolveNetwork(
        store,
        { ...networkSettings(network), ...host } as HostConfig,
        [],
      )
    );
    return e.message;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("-p without a network of the container's own is discarded, as Podman", async () => {
  const dir = await Deno.makeTempDir();
  const store = new ContainerStore({ data: dir, runtime: dir, rootless: true });
  const host = await resolveNetwork(
    store,
    { ...networkSettings("host"), ports: [tcp("", 8080, 80)] } as HostConfig,
    [],
  );
  assertEquals(host.ports, []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--network container: refuses --dns, --add-host; the other must exist", async () => {
  const dns = { servers: [], search: ["a.test"], options: [] };
  assertEquals(
    await joinRefused({ dns }),
    "conflicting options: dns and the network mode: container",
  );
  assertEquals(
    await joinRefused({ dns }, "none"),
    "conflicting options: dns and the network mode: none",
  );
  assertEquals(
    await joinRefused({ addHosts: ["db:10.0.0.2"] }),
    "invalid config provided: cannot set extra host entries when the container is joined to another containers network namespace: invalid configuration",
  );
  assertMatch(await joinRefused({}), /no container with name or ID "web"/);
  assertMatch(
    await joinRefused({}, "ns:/nonexistent/netns"),
    /network namespace \/nonexistent\/netns: cannot be opened/,
  );
  assertMatch(
    await joinRefused({}, "ns:/etc/hostname"),
    /\/etc\/hostname is not a network namespace/,
  );
});

Deno.test("resolv.conf: the stack's resolver unless --dns says otherwise", () => {
  const host =
    "nameserver 10.255.255.53\nsearch example.org\noptions ndots:2\n";
  const none = { servers: [], search: [], options: [] };
  assertEquals(
    resolvConf(parseNetworkMode("slirp4netns"), host, none),
    "nameserver 10.0.2.3\nnameserver 10.255.255.53\n" +
      "search example.org\noptions ndots:2\n",
  );
  assertEquals(
    resolvConf(
      parseNetworkMode("slirp4netns"),
      "nameserver 127.0.0.53\nnameserver ::1\n",
      none,
    ),
    "nameserver 10.0.2.3\n",
  );
  assertEquals(
    resolvConf(parseNetworkMode("host"), host, none),
    host,
  );
  assertEquals(
    resolvConf(parseNetworkMode("pasta"), host, none),
    "nameserver 169.254.1.1\nsearch example.org\noptions ndots:2\n",
  );
  assertEquals(
    resolvConf(parseNetworkMode("pasta"), host, {
      servers: ["192.0.2.53"],
      search: ["a.test", "b.test"],
      options: ["timeout:1"],
    }),
    "nameserver 192.0.2.53\nsearch a.test b.test\noptions timeout:1\n",
  );
});

Deno.test("--add-host: NAME:IP lines, mistakes refused", () => {
  assertEquals(addHostLines(["db:10.0.0.5", "v6:fd00::1"]), [
    "10.0.0.5\tdb",
    "fd00::1\tv6",
  ]);
  assertThrows(
    () => addHostLines(["nocolon"]),
    /bad format for add-host: "nocolon"/,
  );
  assertThrows(() => addHostLines([":1.2.3.4"]), /bad format for add-host/);
  // Podman 4.3 knows no host-gateway: an address is wanted.
  assertThrows(
    () => addHostLines(["gw:host-gateway"]),
    /invalid IP address in add-host: "host-gateway"/,
  );
});

Deno.test("reservePorts: picks free ports, refuses a taken one", async () => {
  const picked = await reservePorts([
    tcp("127.0.0.1", 0, 80),
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: 53, protocol: "udp" },
  ]);
  assertEquals(picked.every((m) => m.hostPort > 0), true);
  // reserved, then let go for the stack to bind
  Deno.listen({ hostname: "127.0.0.1", port: picked[0].hostPort }).close();
  await new Promise((tick) => setTimeout(tick, 0)); // node's UDP close is async
  closeFd(udpBound("127.0.0.1", picked[1].hostPort));
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (l.addr as Deno.NetAddr).port;
    const err = await reservePorts([tcp("127.0.0.1", port, 80)]).then(
      () => undefined,
      (e) => e,
    );
    assertEquals(err instanceof PortInUseError, true);
    // What the monitor's handshake carries to `run`, which then removes
    // the container it made.
    assertEquals(PtdError.fromData(err.toData()).kind, "conflict");
  } finally {
    l.close();
  }
});
