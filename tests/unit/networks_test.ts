/**
 * The pure parts of named networks: --network NAME parsing, network
 * records and their subnets, the DNS messages, resolv.conf and hosts.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import {
  hostsWithAddress,
  networkResolvConf,
} from "../../src/network/attach.ts";
import {
  formatIp,
  inSubnet,
  parseCidr,
  parseIp,
  readIp,
} from "../../src/network/address.ts";
import { NetworkStore } from "../../src/network/config.ts";
import {
  answer,
  parseQuery,
  tableName,
  TYPE_A,
  TYPE_AAAA,
} from "../../src/network/dns.ts";
import { parseNetworks } from "../../src/network/mode.ts";

Deno.test("--network NAME: names, options, several networks, the flags that go with one", () => {
  const m = parseNetworks(["front:alias=web,ip=10.89.0.9", "back"]);
  assertEquals(m.kind, "bridge");
  assertEquals(m.networks, [
    { name: "front", aliases: ["web"], ip: "10.89.0.9" },
    { name: "back", aliases: [] },
  ]);
  // podman-compose joins names with commas; options stay with their name.
  assertEquals(
    parseNetworks(["a,b:alias=x,alias=y,c"]).networks?.map((n) => n.name),
    ["a", "b", "c"],
  );
  assertEquals(parseNetworks(["bridge"]).networks?.[0].name, "podman");
  const one = parseNetworks(["n"], { aliases: ["w"], ip: "10.1.0.5" });
  assertEquals(one.networks, [{ name: "n", aliases: ["w"], ip: "10.1.0.5" }]);
  assertEquals(parseNetworks(["n:ip6=fd00::5"], { ip: "10.1.0.5" }).networks, [
    { name: "n", aliases: [], ip: "10.1.0.5", ip6: "fd00::5" },
  ]);
  assertEquals(parseNetworks(["n"], { ip6: "fd00::6" }).networks, [
    { name: "n", aliases: [], ip6: "fd00::6" },
  ]);
  assertEquals(parseNetworks([]).kind, "slirp4netns");
  assertEquals(parseNetworks(["host"]).kind, "host");
  assertThrows(
    () => parseNetworks(["a", "b"], { ip: "10.0.0.2" }),
    /one network/,
  );
  assertThrows(() => parseNetworks(["host", "n"]), /mode cannot go/);
  assertThrows(() => parseNetworks([], { aliases: ["x"] }), /need a network/);
  assertThrows(() => parseNetworks(["n:foo=1"]), /unknown network option/);
});

Deno.test("network records: free subnets and bridges, Podman's errors, the default network", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = new NetworkStore({ data: dir, runtime: dir, rootless: true });
    const a = await s.create({ name: "a" });
    const b = await s.create({});
    assertEquals(a.subnets, [{ subnet: "10.89.0.0/24", gateway: "10.89.0.1" }]);
    assertEquals(b.subnets[0].subnet, "10.89.1.0/24");
    assertEquals(b.name, "podman1");
    assertEquals([a.network_interface, b.network_interface], [
      "podman1",
      "podman2",
    ]);
    assert(a.dns_enabled && !a.internal);
    const c = await s.create({
      name: "c",
      subnet: ["10.90.3.7/16"],
      ipRange: ["10.90.8.0/24"],
      internal: true,
    });
    assertEquals(c.subnets[0], {
      subnet: "10.90.0.0/16",
      gateway: "10.90.0.1",
      lease_range: { start_ip: "10.90.8.1", end_ip: "10.90.8.254" },
    });
    assertEquals((await s.create({ name: "a", ignore: true })).id, a.id);
    await assertRejects(() => s.create({ name: "a" }), /already used/);
    await assertRejects(
      () => s.create({ name: "d", subnet: ["10.89.0.128/25"] }),
      /already used/,
    );
    await assertRejects(
      () =>
        s.create({
          name: "d",
          subnet: ["10.91.0.0/24"],
          gateway: ["10.5.0.1"],
        }),
      /not in subnet/,
    );
    await assertRejects(() => s.create({ name: "bad name" }), /invalid/);
    assertEquals(s.find("podman").subnets[0].subnet, "10.88.0.0/16");
    assertEquals(s.find(a.id.slice(0, 10)).name, "a");
    assertThrows(() => s.find("nope"), /network not found/);
    assertEquals(s.list().map((n) => n.name), ["a", "c", "podman", "podman1"]);
    s.remove("a");
    // Not s.exists("a"): "a" is also a prefix of ids, as in Podman.
    assert(!s.list().some((n) => n.name === "a"));
    assertThrows(() => s.remove("podman"), /cannot be removed/);
    assert(inSubnet("10.90.255.254", "10.90.0.0/16"));
    assert(!inSubnet("10.91.0.1", "10.90.0.0/16"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IPv6 networks: dual stack with --ipv6, a ULA /64 when none is given, IPv6 alone, ranges", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = new NetworkStore({ data: dir, runtime: dir, rootless: true });
    const dual = await s.create({ name: "d", ipv6: true });
    assert(dual.ipv6_enabled);
    assertEquals(dual.subnets[0], {
      subnet: "10.89.0.0/24",
      gateway: "10.89.0.1",
    });
    assertMatch(
      dual.subnets[1].subnet,
      /^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){3}::\/64$/,
    );
    assertEquals(
      dual.subnets[1].gateway,
      dual.subnets[1].subnet.replace("/64", "1"),
    );
    // An IPv6 subnet alone: an IPv6-only network, as Podman's.
    const only = await s.create({ name: "o", subnet: ["fd00:beef::5/64"] });
    assert(only.ipv6_enabled);
    assertEquals(only.subnets, [{
      subnet: "fd00:beef::/64",
      gateway: "fd00:beef::1",
    }]);
    const ranged = await s.create({
      name: "r",
      ipv6: true,
      subnet: ["fd00:cafe::/64"],
      gateway: ["fd00:cafe::5"],
      ipRange: ["fd00:cafe::/80"],
    });
    assertEquals(ranged.subnets, [
      {
        subnet: "fd00:cafe::/64",
        gateway: "fd00:cafe::5",
        lease_range: {
          start_ip: "fd00:cafe::1",
          end_ip: "fd00:cafe::ffff:ffff:ffff",
        },
      },
      { subnet: "10.89.1.0/24", gateway: "10.89.1.1" },
    ]);
    await assertRejects(
      () => s.create({ name: "x", subnet: ["fd00:beef:0:0:1::/80"] }),
      /already used/,
    );
    await assertRejects(
      () => s.create({ name: "x", subnet: ["fd00:1::/129"] }),
      /invalid CIDR address: fd00:1::\/129/,
    );
    await assertRejects(
      () =>
        s.create({ name: "x", subnet: ["fd00:2::/64"], gateway: ["10.0.0.1"] }),
      /gateway 10.0.0.1 not in subnet fd00:2::\/64/,
    );
    await assertRejects(
      () =>
        s.create({
          name: "x",
          subnet: ["fd00:3::/64"],
          gateway: ["fd00:3::1", "fd00:3::2"],
        }),
      /more gateways than subnets/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("addresses: IPv6 read and written as Go prints them", () => {
  for (
    const [text, back] of [
      ["fd00::1", "fd00::1"],
      ["FD00:0:0:1:0:0:0:1", "fd00:0:0:1::1"],
      ["::", "::"],
      ["1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"],
      ["fd12:3456:789a:1::", "fd12:3456:789a:1::"],
    ]
  ) {
    assertEquals(formatIp(parseIp(text).n, true), back, text);
  }
  for (const bad of ["fd00:::1", "1:2:3:4:5:6:7:8:9", "fd00::g", "1.2.3"]) {
    assertEquals(readIp(bad), undefined, bad);
  }
  assertEquals(
    formatIp(parseCidr("fd00:1:2:3:4::/64").base, true),
    "fd00:1:2:3::",
  );
  assert(inSubnet("fd00:1::ffff", "fd00:1::/64"));
  assert(!inSubnet("fd00:2::1", "fd00:1::/64"));
  assert(!inSubnet("10.0.0.1", "fd00:1::/64"));
});

/** A query as a resolver sends it: id 0x1234, RD, one question. */
function query(name: string, type: number): Uint8Array {
  const labels = name.split(".").flatMap((l) => [
    l.length,
    ...new TextEncoder().encode(l),
  ]);
  return new Uint8Array([
    0x12,
    0x34,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    type,
    0,
    1,
  ]);
}

Deno.test("DNS: a question read, an A answer, an empty AAAA, an AAAA answer, NXDOMAIN", () => {
  const q = query("Web.dns.podman", TYPE_A);
  const parsed = parseQuery(q)!;
  assertEquals(parsed.name, "web.dns.podman");
  assertEquals(parsed.type, TYPE_A);
  assertEquals(tableName(parsed.name), "web");
  assertEquals(tableName("db."), "db");

  const a = answer(q, parsed, ["10.89.0.2"], true);
  assertEquals([...a.subarray(0, 4)], [0x12, 0x34, 0x81, 0x80]);
  assertEquals([a[6], a[7]], [0, 1]); // one answer
  assertEquals([...a.subarray(a.length - 4)], [10, 89, 0, 2]);
  assertEquals([...a.subarray(q.length, q.length + 2)], [0xc0, 0x0c]);

  const q6 = query("web", TYPE_AAAA);
  const none = answer(q6, parseQuery(q6)!, ["10.89.0.2"], true);
  assertEquals([none[3] & 0x0f, none[7]], [0, 0]);
  // AAAA: the IPv6 addresses only, 16 bytes each.
  const six = answer(q6, parseQuery(q6)!, ["10.89.0.2", "fd00::2"], true);
  assertEquals([six[7], six[q6.length + 3], six[q6.length + 11]], [1, 28, 16]);
  assertEquals([...six.subarray(six.length - 16)], [
    0xfd,
    ...Array(14).fill(0),
    2,
  ]);
  const four = answer(q, parsed, ["10.89.0.2", "fd00::2"], true);
  assertEquals(four.length, a.length);
  const nx = answer(q, parsed, [], false);
  assertEquals(nx[3] & 0x0f, 3);

  assertEquals(parseQuery(a), undefined); // a response is no question
  assertEquals(parseQuery(q.subarray(0, 14)), undefined);
});

Deno.test("named networks: resolv.conf asks their DNS servers, hosts gets the address", () => {
  const net = (name: string, gw: string, dns: boolean) => ({
    name,
    id: "x",
    driver: "bridge" as const,
    network_interface: "podman1",
    created: "",
    subnets: [{ subnet: "10.89.0.0/24", gateway: gw }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: dns,
    ipam_options: { driver: "host-local" },
  });
  const mode = parseNetworks(["a"]);
  const host = "nameserver 192.0.2.53\nsearch example.org\n";
  const none = { servers: [], search: [], options: [] };
  assertEquals(
    networkResolvConf([net("a", "10.89.0.1", true)], mode, host, none),
    "nameserver 10.89.0.1\nsearch dns.podman example.org\n",
  );
  // Without DNS on its networks: pasta's resolver, its way out.
  assertEquals(
    networkResolvConf([net("a", "10.89.0.1", false)], mode, host, none),
    "nameserver 169.254.1.1\nsearch example.org\n",
  );
  assertEquals(
    networkResolvConf([net("a", "10.89.0.1", true)], mode, host, {
      ...none,
      servers: ["1.1.1.1"],
    }),
    "nameserver 1.1.1.1\nsearch example.org\n",
  );
  assertEquals(
    hostsWithAddress("127.0.0.1\tlocalhost\n127.0.0.1\tabc web\n", "10.89.0.7"),
    "127.0.0.1\tlocalhost\n10.89.0.7\tabc web\n",
  );
});
