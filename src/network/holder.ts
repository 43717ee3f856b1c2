/**
 * `ptd network-holder SOCKET`: the process that holds the user's network
 * namespace of bridges (see README, "Networks"). It runs as root of the
 * user namespace every container on a named network joins, in a network
 * namespace of its own where each network is a bridge; it wires containers
 * to the bridges with veth pairs, gives them addresses, and answers DNS
 * for their names on each gateway address.
 *
 * Clients speak one JSON line per request on the unix socket. The parent
 * of a container (monitor or foreground CLI) keeps its connection open for
 * as long as the container runs: the connection is the membership, so a
 * parent that dies, even by SIGKILL, takes its names out of the DNS at
 * once, and the holder exits when nobody is connected any more.
 */
import type { Socket } from "node:dgram";
import { cloneExec, environ, exitCode, waitStatus } from "../../ffi/clone.ts";
import { closeFd, dupOnto } from "../../ffi/fd.ts";
import { joinFds } from "../runtime/netns.ts";
import {
  type Cidr,
  cidrSize,
  formatIp,
  inSubnet,
  isV6,
  parseCidr,
  parseIp,
} from "./address.ts";
import type { NetworkRecord, Subnet } from "./config.ts";
import { answer, DNS_DOMAIN, parseQuery, tableName } from "./dns.ts";
import { SLIRP_DNS } from "./etc.ts";

/** The hidden subcommand of the holder. */
export const HOLDER_COMMAND = "network-holder";

/** A container on one network, as a client asks for it. */
export interface AttachRequest {
  network: NetworkRecord;
  aliases: string[];
  ip?: string;
  ip6?: string;
  mac?: string;
  /** Addresses it had (network reload): kept if still free. */
  prefer?: string[];
}

/** What a container got on one network. */
export interface Attached {
  network: string;
  /** IPv4: address, prefix length, gateway ("" and 0 on an IPv6-only network). */
  ip: string;
  prefixLen: number;
  gateway: string;
  /** IPv6, on networks that have it. */
  ipv6?: string;
  ipv6PrefixLen?: number;
  ipv6Gateway?: string;
  mac: string;
  ifname: string;
  aliases: string[];
}

/** A request on the holder's socket. */
export type HolderRequest =
  | { op: "hello" }
  | {
    op: "attach";
    /** The container: its id, names (DNS), and its init's pid. */
    id: string;
    names: string[];
    pid: number;
    networks: AttachRequest[];
    /** true: this connection owns the container's membership. */
    owner: boolean;
  }
  | { op: "detach"; id: string; network: string };

interface Member extends Attached {
  id: string;
  names: string[];
  veth: string;
}

/** One subnet of a network, on its bridge. */
interface Lan {
  subnet: Subnet;
  cidr: Cidr;
  gateway: string;
}

interface Net {
  rec: NetworkRecord;
  bridge: string;
  lans: Lan[];
  members: Map<string, Member>;
  dns: Socket[];
}

/**
 * The MTU of a network's bridge and veths: `-o mtu=N`, else 65520 (as
 * pasta's and slirp4netns's links). Only containers of the network are on
 * the bridge, and they leave it through pasta, so no link of 1500 bytes
 * lies on any path: large frames carry bulk traffic between containers
 * with a fraction of the per-packet work.
 */
function mtuOf(rec: NetworkRecord): number {
  return Number(rec.options?.mtu ?? 65520);
}

/** The address and prefix of each family a member has, for `ip addr add`. */
function addressesOf(m: Attached): string[] {
  return [
    ...(m.ip ? [`${m.ip}/${m.prefixLen}`] : []),
    ...(m.ipv6 ? [`${m.ipv6}/${m.ipv6PrefixLen} nodad`] : []),
  ];
}

const nets = new Map<string, Net>();
/** Container id -> the connection that owns its membership. */
const owners = new Map<string, Deno.Conn>();
/** Container id -> the pid of its init (the members file). */
const pids = new Map<string, number>();

/** The file that names the members' processes (see survivorUserns). */
export const MEMBERS_FILE = "members.json";

/** A process's start time (clock ticks since boot): tells a reused pid. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Writes which processes are members: should this holder die while they
 * run, the next one joins their user namespace (daemon.ts), so that
 * `network reload` can wire them again.
 */
function recordMembers() {
  const list = [...pids.values()].map((pid) => ({
    pid,
    start: startTime(pid),
  }));
  Deno.writeTextFileSync(`${MEMBERS_FILE}.tmp`, JSON.stringify(list));
  Deno.renameSync(`${MEMBERS_FILE}.tmp`, MEMBERS_FILE);
}
let connections = 0;
let ipPath = "";

/** Runs `ip -batch FILE` in our netns, or in that of `pid`. */
async function ip(lines: string[], pid?: number): Promise<void> {
  const file = `batch-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeTextFileSync(file, lines.join("\n") + "\n");
  const join = pid === undefined ? undefined : joinFds(`/proc/${pid}/ns/net`);
  try {
    const child = await cloneExec({
      flags: 0,
      path: ipPath,
      argv: [ipPath, "-batch", `${Deno.cwd()}/${file}`],
      env: environ(),
      join: join?.fds,
    });
    child.release();
    const code = exitCode(await waitStatus(child.pid));
    if (code !== 0) {
      throw new Error(
        `ip ${lines[0].split(" ").slice(0, 2).join(" ")}: failed`,
      );
    }
  } finally {
    join?.fds.forEach(closeFd);
    Deno.removeSync(file);
  }
}

/** The network's bridge (with its DNS server), made on first use. */
async function bridgeOf(rec: NetworkRecord): Promise<Net> {
  const have = nets.get(rec.name);
  if (have && have.rec.id === rec.id) return have;
  // A network removed (its bridge stays while the holder lives) and one
  // made with its name, bridge or a gateway of its: the old bridge goes.
  const gateways = rec.subnets.map((x) => x.gateway);
  for (const n of [...nets.values()]) {
    if (
      n.rec.name === rec.name || n.bridge === rec.network_interface ||
      n.lans.some((l) => gateways.includes(l.gateway))
    ) {
      await dropNet(n);
    }
  }
  const lans = rec.subnets.map((subnet) => {
    const cidr = parseCidr(subnet.subnet);
    const gateway = subnet.gateway ?? formatIp(cidr.base + 1n, cidr.v6);
    return { subnet, cidr, gateway };
  });
  const mtu = ` mtu ${mtuOf(rec)}`;
  const net: Net = {
    rec,
    bridge: rec.network_interface,
    lans,
    members: new Map(),
    dns: [],
  };
  await ip([
    `link add ${net.bridge}${mtu} type bridge`,
    // nodad: an IPv6 address is usable at once, not after duplicate
    // address detection (a second or more), so the DNS server can bind it.
    ...lans.map((l) =>
      `addr add ${l.gateway}/${l.cidr.prefix} dev ${net.bridge}${
        l.cidr.v6 ? " nodad" : ""
      }`
    ),
    `link set ${net.bridge} up`,
  ]);
  nets.set(rec.name, net);
  if (rec.dns_enabled) {
    for (const l of lans) net.dns.push(await dnsServer(net, l));
  }
  return net;
}

async function dropNet(net: Net) {
  for (const s of net.dns) s.close();
  nets.delete(net.rec.name);
  await ip([`link del ${net.bridge}`]).catch(() => {});
}

/** The addresses (either family) of `name` on `net`. */
function lookup(net: Net, name: string): string[] {
  const n = tableName(name);
  return [...net.members.values()]
    .filter((m) => m.names.includes(n) || m.aliases.includes(n))
    .flatMap((m) => [m.ip, m.ipv6 ?? ""].filter((x) => x));
}

/** Asks the host's resolvers (through slirp4netns) and relays the answer. */
function forward(
  dgram: typeof import("node:dgram"),
  msg: Uint8Array,
  reply: (m: Uint8Array) => void,
) {
  const up = dgram.createSocket("udp4");
  const done = () => {
    clearTimeout(timer);
    up.close();
  };
  const timer = setTimeout(done, 5000);
  up.on("message", (m) => {
    reply(new Uint8Array(m));
    done();
  });
  up.on("error", done);
  up.send(msg, 53, SLIRP_DNS);
}

/** The DNS server of one network on the gateway address of `lan`. */
async function dnsServer(net: Net, lan: Lan): Promise<Socket> {
  const dgram = await import("node:dgram");
  const sock = dgram.createSocket(lan.cidr.v6 ? "udp6" : "udp4");
  sock.on("message", (m, from) => {
    const msg = new Uint8Array(m);
    const q = parseQuery(msg);
    if (!q) return;
    const send = (out: Uint8Array) => sock.send(out, from.port, from.address);
    const ips = lookup(net, q.name);
    if (ips.length > 0) return send(answer(msg, q, ips, true));
    // An internal network reaches nothing outside, DNS included; and
    // nobody outside knows our domain.
    if (net.rec.internal || q.name.endsWith(`.${DNS_DOMAIN}`)) {
      return send(answer(msg, q, [], false));
    }
    forward(dgram, msg, send);
  });
  await new Promise<void>((ok, fail) => {
    sock.once("error", fail);
    sock.bind(53, lan.gateway, () => ok());
  });
  return sock;
}

/** The next free address of `lan` on `net`, or the one asked for if it is free. */
function address(net: Net, lan: Lan, asked?: string): string {
  const used = new Set([
    lan.gateway,
    ...[...net.members.values()].map((m) => lan.cidr.v6 ? m.ipv6 : m.ip),
  ]);
  if (asked) {
    if (used.has(asked)) {
      throw new Error(
        `requested ip address ${asked} is already allocated to another container`,
      );
    }
    return asked;
  }
  const { cidr, subnet } = lan;
  const range = subnet.lease_range;
  const first = range ? parseIp(range.start_ip).n : cidr.base + 1n;
  // IPv4 keeps its broadcast address free.
  const last = range
    ? parseIp(range.end_ip).n
    : cidr.base + cidrSize(cidr) - (cidr.v6 ? 1n : 2n);
  for (let n = first; n <= last; n++) {
    const text = formatIp(n, cidr.v6);
    if (!used.has(text)) return text;
  }
  throw new Error(`no free address left on network ${net.rec.name}`);
}

/** The container's addresses on `net`: one per subnet (family). */
function addressesOn(net: Net, a: AttachRequest) {
  const prefer = a.prefer ?? [];
  const wanted = [a.ip, a.ip6].filter((x) => x !== undefined);
  for (const x of wanted) {
    if (!net.lans.some((l) => inSubnet(x, l.subnet.subnet))) {
      throw new Error(
        `requested ip address ${x} is not in a subnet of network ${net.rec.name}`,
      );
    }
  }
  const pick = (v6: boolean) => {
    const lan = net.lans.find((l) => l.cidr.v6 === v6);
    if (!lan) return undefined;
    const taken = (x: string) =>
      x === lan.gateway ||
      [...net.members.values()].some((m) => m.ip === x || m.ipv6 === x);
    const had = prefer.find((x) => inSubnet(x, lan.subnet.subnet) && !taken(x));
    const ip = address(
      net,
      lan,
      wanted.find((x) => isV6(x) === v6) ?? had,
    );
    return { ip, prefixLen: lan.cidr.prefix, gateway: lan.gateway };
  };
  const v4 = pick(false), v6 = pick(true);
  return {
    ip: v4?.ip ?? "",
    prefixLen: v4?.prefixLen ?? 0,
    gateway: v4?.gateway ?? "",
    ...(v6
      ? { ipv6: v6.ip, ipv6PrefixLen: v6.prefixLen, ipv6Gateway: v6.gateway }
      : {}),
  };
}

/** A MAC address of our own (locally administered, unicast). */
function randomMac(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The container's next interface name: eth0, eth1, ... */
function ifnameFor(id: string): string {
  const taken = new Set(
    [...nets.values()].flatMap((n) => {
      const m = n.members.get(id);
      return m ? [m.ifname] : [];
    }),
  );
  for (let i = 0;; i++) if (!taken.has(`eth${i}`)) return `eth${i}`;
}

/** Wires the container of `pid` to one network. */
async function attachOne(
  id: string,
  names: string[],
  pid: number,
  a: AttachRequest,
): Promise<Attached> {
  const net = await bridgeOf(a.network);
  if (net.members.has(id)) {
    throw new Error(
      `container ${id} is already connected to network ${a.network.name}`,
    );
  }
  const m: Member = {
    id,
    names,
    network: net.rec.name,
    ...addressesOn(net, a),
    mac: a.mac ?? randomMac(),
    ifname: ifnameFor(id),
    aliases: a.aliases.map((x) => x.toLowerCase()),
    veth: `veth${crypto.randomUUID().slice(0, 8)}`,
  };
  const mtu = ` mtu ${mtuOf(net.rec)}`;
  await ip([
    `link add ${m.veth}${mtu} type veth peer name ${m.ifname}${mtu} address ${m.mac} netns ${pid}`,
    `link set ${m.veth} master ${net.bridge} up`,
  ]);
  try {
    await ip([
      ...addressesOf(m).map((a) => `addr add ${a} dev ${m.ifname}`),
      `link set ${m.ifname} up`,
    ], pid);
  } catch (e) {
    await ip([`link del ${m.veth}`]).catch(() => {});
    throw e;
  }
  net.members.set(id, m);
  return m;
}

async function detachOne(id: string, network: string) {
  const net = nets.get(network);
  const m = net?.members.get(id);
  if (!net || !m) {
    throw new Error(`container ${id} is not connected to network ${network}`);
  }
  net.members.delete(id);
  await ip([`link del ${m.veth}`]).catch(() => {});
}

/**
 * Takes a container off every network (its parent is gone, or a new one
 * takes it over); resolves when its veths are deleted.
 */
function forget(id: string): Promise<unknown> {
  owners.delete(id);
  if (pids.delete(id)) recordMembers();
  const gone = [];
  for (const net of [...nets.values()]) {
    const m = net.members.get(id);
    if (!m) continue;
    net.members.delete(id);
    // Its namespace usually went with it, and the veth with that.
    gone.push(ip([`link del ${m.veth}`]).catch(() => {}));
  }
  const all = Promise.all(gone);
  // The same container back (reload, restart) waits for them: its eth0
  // would clash with the old one's while that is still there.
  deleting.set(id, all);
  all.then(() => {
    if (deleting.get(id) === all) deleting.delete(id);
  });
  return all;
}

/** Container id -> its old veths being deleted. */
const deleting = new Map<string, Promise<unknown>>();

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` after every change asked before it: two containers starting
 * at once must not both make a network's bridge.
 */
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

async function handle(
  req: HolderRequest,
  conn: Deno.Conn,
  owned: Set<string>,
): Promise<Record<string, unknown>> {
  if (req.op === "hello") return { pid: Deno.pid };
  if (req.op === "detach") {
    await detachOne(req.id, req.network);
    return {};
  }
  if (!req.owner && !owners.has(req.id)) {
    throw new Error(`container ${req.id} is not running`);
  }
  // A new owner (network reload) takes the container over: what it had
  // goes first, and the old connection's end no longer takes it off.
  if (req.owner && owners.has(req.id)) forget(req.id);
  await deleting.get(req.id);
  const done: Attached[] = [];
  try {
    for (const a of req.networks) {
      done.push(await attachOne(req.id, req.names, req.pid, a));
    }
  } catch (e) {
    for (const d of done) await detachOne(req.id, d.network);
    throw e;
  }
  if (req.owner) {
    owners.set(req.id, conn);
    owned.add(req.id);
    pids.set(req.id, req.pid);
    recordMembers();
  }
  return { attached: done };
}

let idle: ReturnType<typeof setTimeout> | undefined;

let socketPath = "";

/**
 * Exits once nobody has been connected for a moment. A client that comes
 * meanwhile keeps it; one that finds the socket gone starts a new holder.
 */
function maybeExit() {
  clearTimeout(idle);
  if (connections > 0 || owners.size > 0) return;
  idle = setTimeout(() => {
    try {
      Deno.removeSync(socketPath);
    } catch { /* gone already */ }
    Deno.exit(0);
  }, 500);
}

async function serve(conn: Deno.Conn) {
  connections++;
  clearTimeout(idle);
  const owned = new Set<string>();
  const enc = new TextEncoder();
  let text = "";
  try {
    const buf = new Uint8Array(65536);
    for (let n; (n = await conn.read(buf)) !== null;) {
      text += new TextDecoder().decode(buf.subarray(0, n));
      for (let i; (i = text.indexOf("\n")) >= 0;) {
        const line = text.slice(0, i);
        text = text.slice(i + 1);
        let reply;
        try {
          const req = JSON.parse(line);
          reply = {
            ok: true,
            ...(await serial(() => handle(req, conn, owned))),
          };
        } catch (e) {
          reply = { ok: false, error: (e as Error).message };
        }
        await conn.write(enc.encode(JSON.stringify(reply) + "\n"));
      }
    }
  } catch {
    /* the client went away */
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
    for (const id of owned) {
      if (owners.get(id) === conn) {
        // The next container's attach need not wait for the veth to go.
        await serial(() => Promise.resolve(void forget(id)));
      }
    }
    connections--;
    maybeExit();
  }
}

/** Finds iproute2's `ip`, which wires the bridges and veths. */
function findIp(): string {
  for (const p of ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]) {
    try {
      Deno.statSync(p);
      return p;
    } catch { /* next */ }
  }
  throw new Error("ip not found: install the Debian package iproute2");
}

/**
 * Entry of `ptd network-holder SOCKET`, run in its own user and network
 * namespaces with the socket's directory as its working directory. Writes
 * "ready" on stdout once it serves.
 */
export async function holderMain(args: string[]): Promise<number> {
  const [socket] = args;
  socketPath = socket;
  ipPath = findIp();
  await ip(["link set lo up"]);
  try {
    Deno.removeSync(socket);
  } catch { /* none left */ }
  const listener = Deno.listen({ transport: "unix", path: socket });
  Deno.stdout.writeSync(new TextEncoder().encode("ready\n"));
  // Let go of the starter's pipe, so it sees the end of our answer.
  dupOnto(0, 1);
  maybeExit();
  for await (const conn of listener) serve(conn);
  return 0;
}
