/**
 * Network routes: create, list, inspect, remove, connect, disconnect and
 * prune, in Docker's shapes (bridge networks of local scope); and a
 * container's endpoints as its inspect and list entries show them.
 */
import type { Engine } from "../engine/engine.ts";
import {
  connectNetwork,
  containerNetworks,
  createNetwork,
  disconnectNetwork,
  listNetworks,
  type NetworkMember,
  networkMembers,
  pruneNetworks,
  removeNetwork,
} from "../engine/networks.ts";
import { DEFAULT_NETWORK, type NetworkRecord } from "../network/config.ts";
import { invalid, isKind } from "../runtime/errors.ts";
import type { HttpRequest } from "./http.ts";
import { filterArgs, json, jsonBody, noContent } from "./reply.ts";
import type { Route } from "./router.ts";

/** Docker's name of the one option both have; the others keep ptd's names. */
const DOCKER_MTU = "com.docker.network.driver.mtu";

const renameKeys = (o: Record<string, string>, from: string, to: string) =>
  Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k === from ? to : k, v]),
  );

/**
 * Docker's endpoint id is a hex string of its own; ptd's endpoint is the
 * pair (container, network), so its id is made of theirs.
 */
const endpointId = (containerId: string, networkId: string) =>
  containerId.slice(0, 32) + networkId.slice(0, 32);

/** A network as Docker shows it; `members`: its running containers. */
function dockerNetwork(n: NetworkRecord, members: NetworkMember[] = []) {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: "local",
    Driver: n.driver,
    EnableIPv6: n.ipv6_enabled,
    IPAM: {
      Driver: "default",
      Options: {},
      Config: n.subnets.map((s) => ({
        Subnet: s.subnet,
        ...(s.gateway ? { Gateway: s.gateway } : {}),
      })),
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      members.filter((m) => m.attached).map(({ c, attached: a }) => [c.id, {
        Name: c.name,
        EndpointID: endpointId(c.id, n.id),
        MacAddress: a!.mac,
        IPv4Address: a!.ip ? `${a!.ip}/${a!.prefixLen}` : "",
        IPv6Address: a!.ipv6 ? `${a!.ipv6}/${a!.ipv6PrefixLen}` : "",
      }]),
    ),
    Options: renameKeys(n.options ?? {}, "mtu", DOCKER_MTU),
    Labels: n.labels ?? {},
  };
}

/**
 * A container's named networks as Docker's NetworkSettings.Networks: its
 * short id is one of its aliases, as Docker has it (docker-compose
 * reconnects a container whose aliases lack it).
 */
export async function dockerEndpoints(
  e: Engine,
  ref: string,
): Promise<Record<string, unknown>> {
  const list = await containerNetworks(e, ref);
  return Object.fromEntries(
    list.map(({ network: n, member: { c, attachment, attached: a } }) => [
      n.name,
      {
        IPAMConfig: attachment.ip ? { IPv4Address: attachment.ip } : null,
        Links: null,
        Aliases: [...new Set([...attachment.aliases, c.id.slice(0, 12)])],
        NetworkID: n.id,
        EndpointID: a ? endpointId(c.id, n.id) : "",
        Gateway: a?.gateway ?? "",
        IPAddress: a?.ip ?? "",
        IPPrefixLen: a?.prefixLen ?? 0,
        IPv6Gateway: a?.ipv6Gateway ?? "",
        GlobalIPv6Address: a?.ipv6 ?? "",
        GlobalIPv6PrefixLen: a?.ipv6PrefixLen ?? 0,
        MacAddress: a?.mac ?? "",
        DriverOpts: null,
      },
    ]),
  );
}

/**
 * Docker's list filters: ptd's (name, id, driver, label, dangling), and
 * scope and type, which only Docker has: every network is local, and the
 * default one is the only builtin.
 */
function listed(e: Engine, req: HttpRequest): NetworkRecord[] {
  const args = filterArgs(req);
  const own = args.filter((a) => !/^(scope|type)=/.test(a));
  const keep = (key: string, fn: (v: string, n: NetworkRecord) => boolean) => {
    const vs = args.filter((a) => a.startsWith(`${key}=`)).map((a) =>
      a.slice(key.length + 1)
    );
    return (n: NetworkRecord) => vs.length === 0 || vs.some((v) => fn(v, n));
  };
  const builtin = (n: NetworkRecord) => n.name === DEFAULT_NETWORK;
  return listNetworks(e, own)
    .filter(keep("scope", (v) => v === "local"))
    .filter(keep("type", (v, n) => v === (builtin(n) ? "builtin" : "custom")));
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A field that must be a string map (Labels, Options), or a 400. */
function stringMap(body: Obj, key: string): Record<string, string> {
  const v = body[key] ?? {};
  if (!isObj(v) || Object.values(v).some((x) => typeof x !== "string")) {
    throw invalid(`json: cannot unmarshal ${key}: a string map is required`);
  }
  return v as Record<string, string>;
}

/** Docker's network create body as the engine's request. */
function createRequest(body: Obj) {
  if (typeof body.Name !== "string" || body.Name === "") {
    throw invalid("network name is required");
  }
  const driver = body.Driver ?? "bridge";
  if (driver !== "bridge" && driver !== "") {
    throw invalid(`network driver ${driver} is not supported by ptd`);
  }
  const ipam = isObj(body.IPAM) ? body.IPAM : {};
  if (ipam.Driver && ipam.Driver !== "default") {
    throw invalid(`IPAM driver ${ipam.Driver} is not supported by ptd`);
  }
  const configs = Array.isArray(ipam.Config) ? ipam.Config as Obj[] : [];
  const str = (v: unknown) => typeof v === "string" ? v : "";
  // The n-th gateway and range go with the n-th subnet ("": none).
  const list = (key: string) => {
    const l = configs.map((c) => str(c[key]));
    return l.some((v) => v) ? l : [];
  };
  return {
    name: body.Name,
    subnet: list("Subnet"),
    gateway: list("Gateway"),
    ipRange: list("IPRange"),
    internal: body.Internal === true,
    ipv6: body.EnableIPv6 === true,
    labels: stringMap(body, "Labels"),
    options: renameKeys(stringMap(body, "Options"), DOCKER_MTU, "mtu"),
  };
}

/** The container a connect or disconnect body names. */
function bodyContainer(body: Obj): string {
  if (typeof body.Container !== "string" || body.Container === "") {
    throw invalid("a container is required");
  }
  return body.Container;
}

/** The network routes. */
export const networkRoutes: Route[] = [
  [
    "GET",
    "/networks",
    ({ e, req }) =>
      Promise.resolve(json(listed(e, req).map((n) => dockerNetwork(n)))),
  ],
  ["POST", "/networks/create", async ({ e, req }) => {
    const n = await createNetwork(e, createRequest(await jsonBody(req)));
    return json({ Id: n.id, Warning: "" }, 201);
  }],
  ["POST", "/networks/prune", ({ e, req }) => {
    const r = pruneNetworks(e, filterArgs(req));
    if (r.errors.length > 0) throw r.errors[0].error;
    return Promise.resolve(json({ NetworksDeleted: r.removed }));
  }],
  ["GET", "/networks/:id", async ({ e, params }) => {
    const { network, members } = await networkMembers(e, params.id);
    return json(dockerNetwork(network, members));
  }],
  ["DELETE", "/networks/:id", async ({ e, params }) => {
    try {
      await removeNetwork(e, params.id, false);
    } catch (err) {
      // Docker forbids removing a network in use, or a predefined one.
      if (!isKind(err, "conflict") && !isKind(err, "invalid")) throw err;
      return json({ message: (err as Error).message }, 403);
    }
    return noContent();
  }],
  ["POST", "/networks/:id/connect", async ({ e, req, params }) => {
    const body = await jsonBody(req);
    const ep = isObj(body.EndpointConfig) ? body.EndpointConfig : {};
    const ipam = isObj(ep.IPAMConfig) ? ep.IPAMConfig : {};
    const aliases = Array.isArray(ep.Aliases) ? ep.Aliases.map(String) : [];
    await connectNetwork(e, params.id, bodyContainer(body), {
      aliases,
      ip: typeof ipam.IPv4Address === "string" && ipam.IPv4Address
        ? ipam.IPv4Address
        : undefined,
    });
    return noContent(200);
  }],
  ["POST", "/networks/:id/disconnect", async ({ e, req, params }) => {
    const body = await jsonBody(req);
    await disconnectNetwork(e, params.id, bodyContainer(body));
    return noContent(200);
  }],
];
