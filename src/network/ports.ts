/**
 * Published ports: parsing Docker's `-p` syntax, picking free host ports,
 * checking that asked-for ports are free before a container is created, and
 * the "127.0.0.1:8080->80/tcp" text of `ps` and `port`.
 */
import { invalid, PtdError } from "../runtime/errors.ts";
/** One host port forwarded to one container port. */
export interface PortMapping {
  /** Host address to bind; "" for all addresses. */
  hostIp: string;
  /** 0 until a free port is picked (`-p CTR`, `-P`). */
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

/**
 * A host port that something else already holds: a conflict, which is all
 * of it that crosses from the monitor to the CLI.
 */
export class PortInUseError extends PtdError {
  constructor(m: PortMapping) {
    super(
      "conflict",
      `cannot publish ${
        hostAddr(m)
      }:${m.hostPort}/${m.protocol}: address already in use`,
    );
    this.name = "PortInUseError";
  }
}

/** The address a mapping binds on the host ("0.0.0.0" for all). */
export function hostAddr(m: PortMapping): string {
  return m.hostIp || "0.0.0.0";
}

/** The host address as `ps` and `port` print it (IPv6 in brackets). */
function showAddr(m: PortMapping): string {
  return m.hostIp.includes(":") ? `[${m.hostIp}]` : hostAddr(m);
}

function parseRange(text: string, what: string, spec: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi > 65535 || hi < lo) {
    throw invalid(
      `invalid ${what} port ${JSON.stringify(text)} in -p ${spec}`,
    );
  }
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

function parseIp(ip: string, spec: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4 && v4.slice(1).every((b) => Number(b) <= 255)) return ip;
  if (/^[0-9a-fA-F:]+$/.test(ip) && ip.includes(":")) return ip;
  throw invalid(`invalid IP address ${JSON.stringify(ip)} in -p ${spec}`);
}

/**
 * Parses one `-p` value: `CTR`, `HOST:CTR`, `IP:HOST:CTR`, `IP::CTR`,
 * `[IPv6]:HOST:CTR`, each port optionally a range `A-B`, with an optional
 * `/tcp` or `/udp`. A missing host port is 0 (picked at create time).
 */
export function parsePublish(spec: string): PortMapping[] {
  const slash = spec.lastIndexOf("/");
  const proto = slash < 0 ? "tcp" : spec.slice(slash + 1);
  if (proto !== "tcp" && proto !== "udp") {
    throw invalid(`invalid protocol ${JSON.stringify(proto)} in -p ${spec}`);
  }
  let rest = slash < 0 ? spec : spec.slice(0, slash);
  let hostIp = "";
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = parseIp(v6[1], spec);
    rest = v6[2];
  }
  const parts = rest.split(":");
  if (parts.length === 3 && !v6) hostIp = parseIp(parts.shift()!, spec);
  if (parts.length > 2 || (v6 && parts.length !== 2)) {
    throw invalid(`invalid -p ${spec}: want [[IP:]HOST:]CTR[/tcp|/udp]`);
  }
  const ctr = parseRange(parts.at(-1)!, "container", spec);
  const host = parts.length === 2 && parts[0] !== ""
    ? parseRange(parts[0], "host", spec)
    : ctr.map(() => 0);
  if (host.length !== ctr.length) {
    throw invalid(
      `invalid -p ${spec}: host and container port ranges differ in length`,
    );
  }
  return ctr.map((containerPort, i) => ({
    hostIp,
    hostPort: host[i],
    containerPort,
    protocol: proto,
  }));
}

/** Docker's image `ExposedPorts` keys ("80/tcp", "53/udp", "8080") as mappings to free host ports (`-P`). */
export function exposedMappings(exposed: string[]): PortMapping[] {
  return exposed.flatMap((e) => parsePublish(e));
}

/** One listener held while ports are checked, so two picks never collide. */
type Held = { close(): void };

function holdTcp(m: PortMapping): Held & { port: number } {
  const l = Deno.listen({ hostname: hostAddr(m), port: m.hostPort });
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

async function holdUdp(m: PortMapping): Promise<Held & { port: number }> {
  // Loaded only when a UDP port is asked for: node compatibility costs every
  // process that loads it ~50 ms of start-up, and the monitor imports this file.
  const { default: dgram } = await import("node:dgram");
  const sock = dgram.createSocket(m.hostIp.includes(":") ? "udp6" : "udp4");
  return new Promise((ok, fail) => {
    sock.once("error", (e) => {
      sock.close();
      fail(e);
    });
    sock.bind(
      m.hostPort,
      hostAddr(m),
      () => ok({ port: sock.address().port, close: () => sock.close() }),
    );
  });
}

function inUse(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse ||
    (e as { code?: string })?.code === "EADDRINUSE";
}

/**
 * Checks that every asked-for host port is free and picks free ones for the
 * rest, by binding each (and holding all binds until the end). Returns the
 * mappings with real host ports. Throws PortInUseError for a taken port.
 */
export async function reservePorts(
  mappings: PortMapping[],
): Promise<PortMapping[]> {
  const held: Held[] = [];
  try {
    const out: PortMapping[] = [];
    for (const m of mappings) {
      try {
        const h = m.protocol === "tcp" ? holdTcp(m) : await holdUdp(m);
        held.push(h);
        out.push({ ...m, hostPort: h.port });
      } catch (e) {
        if (inUse(e)) throw new PortInUseError(m);
        throw new Error(
          `cannot publish ${hostAddr(m)}:${m.hostPort}/${m.protocol}: ${
            e instanceof Error ? e.message : e
          }`,
        );
      }
    }
    return out;
  } finally {
    for (const h of held) h.close();
  }
}

function sameRun(a: PortMapping, b: PortMapping): boolean {
  return a.hostIp === b.hostIp && a.protocol === b.protocol &&
    b.hostPort === a.hostPort + 1 && b.containerPort === a.containerPort + 1;
}

/** Mappings with consecutive ports folded into runs (Podman's ranges). */
export function portRuns(mappings: PortMapping[]): PortMapping[][] {
  const runs: PortMapping[][] = [];
  for (const m of mappings) {
    const last = runs.at(-1);
    if (last && sameRun(last.at(-1)!, m)) last.push(m);
    else runs.push([m]);
  }
  return runs;
}

/**
 * The PORTS column of `ps`, Docker's way: "127.0.0.1:8080->80/tcp", runs of
 * consecutive ports folded into ranges, entries joined by ", ".
 */
export function formatPorts(mappings: PortMapping[]): string {
  return portRuns(mappings).map((r) => {
    const a = r[0], b = r.at(-1)!;
    const span = (x: number, y: number) => x === y ? `${x}` : `${x}-${y}`;
    return `${showAddr(a)}:${span(a.hostPort, b.hostPort)}->${
      span(a.containerPort, b.containerPort)
    }/${a.protocol}`;
  }).join(", ");
}

/** `ptd port` lines: "80/tcp -> 127.0.0.1:8080", one per mapping. */
export function portLines(mappings: PortMapping[]): string[] {
  return mappings.map((m) =>
    `${m.containerPort}/${m.protocol} -> ${showAddr(m)}:${m.hostPort}`
  );
}

/** `port NAME 80` or `80/udp`: the lines of that container port only. */
export function portsFor(mappings: PortMapping[], port: string): string[] {
  const [num, proto = "tcp"] = port.split("/");
  return portLines(
    mappings.filter((m) =>
      String(m.containerPort) === num && m.protocol === proto
    ),
  );
}

/** Docker's NetworkSettings.Ports: {"80/tcp": [{HostIp, HostPort}]}. */
export function portsDoc(
  mappings: PortMapping[],
): Record<string, { HostIp: string; HostPort: string }[]> {
  const doc: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const m of mappings) {
    (doc[`${m.containerPort}/${m.protocol}`] ??= []).push({
      HostIp: m.hostIp,
      HostPort: String(m.hostPort),
    });
  }
  return doc;
}
