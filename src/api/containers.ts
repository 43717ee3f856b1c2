/**
 * Container routes: create, list, inspect, the lifecycle verbs, wait,
 * logs, top, changes, export and prune, each one engine call,
 * answered in Docker's shapes and status codes.
 */
import { diffObject, exportContainer } from "../engine/changes.ts";
import { createContainer } from "../engine/create.ts";
import {
  containerLogs,
  killContainer,
  pauseContainer,
  pruneContainers,
  removeContainer,
  renameContainer,
  restartContainer,
  stopContainer,
  topContainer,
  type WaitCondition,
  waitForCondition,
} from "../engine/lifecycle.ts";
import {
  containerWithState,
  inspectContainer,
  listContainers,
  parseContainerFilters,
} from "../engine/listing.ts";
import {
  hasHealthcheck,
  type HealthState,
} from "../container/health_config.ts";
import { isActive } from "../container/liveness.ts";
import { invalid } from "../runtime/errors.ts";
import { startWithClients } from "./attach.ts";
import { createRequestOf } from "./create_body.ts";
import { dockerEndpoints } from "./networks.ts";
import { concat, type HttpRequest } from "./http.ts";
import {
  filterArgs,
  flag,
  json,
  jsonBody,
  muxFrame,
  noContent,
  produced,
  STREAM_IDS,
} from "./reply.ts";
import type { Route } from "./router.ts";

const enc = new TextEncoder();

/** A `t`/`signal`-style number of the query, if given. */
function queryNumber(req: HttpRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw invalid(`invalid value for ${name}: ${v}`);
  return Number(v);
}

/** Docker's network mode name for ptd's. */
const dockerNetworkMode = (mode: string) =>
  mode === "private" || mode === "slirp4netns" ? "bridge" : mode;

/** The inspect document as Docker's clients read it. */
async function dockerInspect(
  e: Parameters<typeof inspectContainer>[0],
  ref: string,
) {
  const doc = await inspectContainer(e, ref) as Record<string, never>;
  const config = doc.Config as Record<string, unknown>;
  const host = doc.HostConfig as Record<string, unknown>;
  const { c } = await containerWithState(e, ref);
  const net = doc.NetworkSettings as Record<string, unknown>;
  // Docker has no Health without a healthcheck (clients show it if present).
  const { Health: health, ...state } = doc.State as Record<string, unknown>;
  const checked = hasHealthcheck(c.host.healthcheck);
  return {
    ...doc,
    State: checked
      ? {
        ...state,
        Health: { ...health as object, Log: (health as HealthState).Log ?? [] },
      }
      : state,
    Name: `/${c.name}`,
    Config: {
      ...config,
      Entrypoint: c.entrypoint.length > 0 ? c.entrypoint : null,
      StopSignal: c.host.stopSignal,
      Labels: c.labels,
    },
    HostConfig: {
      ...host,
      NetworkMode: dockerNetworkMode(c.host.network),
      LogConfig: { Type: c.host.logDriver ?? "json-file", Config: {} },
    },
    NetworkSettings: { ...net, Networks: await dockerEndpoints(e, c.id) },
  };
}

/**
 * A running container's status as Docker words it: "Up 5 seconds
 * (health: starting)" where Podman (and so the row) says "Up 5 seconds
 * ago (starting)".
 */
const dockerStatus = (status: string) =>
  status.replace(/ ago( \(|$)/, "$1").replace(
    "(starting)",
    "(health: starting)",
  );

/** `GET /containers/json`: Docker's list entries. */
async function list(e: Parameters<typeof listContainers>[0], req: HttpRequest) {
  const limit = queryNumber(req, "limit");
  const rows = await listContainers(e, {
    all: flag(req, "all"),
    last: limit,
    size: flag(req, "size"),
    filters: parseContainerFilters(filterArgs(req)),
  });
  rows.reverse();
  const nets = await Promise.all(
    rows.map((r) => r.Networks.length > 0 ? dockerEndpoints(e, r.Id) : {}),
  );
  return rows.map((r, i) => ({
    Id: r.Id,
    Names: r.Names.map((n) => `/${n}`),
    Image: r.Image,
    ImageID: r.ImageID,
    Command: r.Command.join(" "),
    Created: r.Created,
    Ports: (r.Ports ?? []).flatMap((p) =>
      [...Array(p.range).keys()].map((i) => ({
        ...(p.host_ip ? { IP: p.host_ip } : { IP: "0.0.0.0" }),
        PrivatePort: p.container_port + i,
        PublicPort: p.host_port + i,
        Type: p.protocol,
      }))
    ),
    ...(r.Size ? { SizeRw: r.Size.rwSize, SizeRootFs: r.Size.rootFsSize } : {}),
    Labels: r.Labels ?? {},
    State: r.State,
    Status: r.State === "running" ? dockerStatus(r.Status) : r.Status,
    HostConfig: { NetworkMode: r.Networks[0] ?? "bridge" },
    NetworkSettings: { Networks: nets[i] },
    Mounts: [],
  }));
}

/** The container's log as Docker's stream: multiplexed, or raw with a tty. */
async function* logStream(
  e: Parameters<typeof containerLogs>[0],
  ref: string,
  req: HttpRequest,
): AsyncGenerator<Uint8Array> {
  const { c } = await containerWithState(e, ref);
  const time = (name: string) => {
    const v = req.query.get(name);
    return v && v !== "0" ? Number(v) * 1000 : undefined;
  };
  const tail = req.query.get("tail");
  const [log] = await containerLogs(
    e,
    { refs: [c.id] },
    {
      since: time("since"),
      until: time("until"),
      tail: tail && tail !== "all" ? Number(tail) : undefined,
    },
    flag(req, "follow"),
    req.signal,
  );
  const want = { stdout: flag(req, "stdout"), stderr: flag(req, "stderr") };
  for await (const r of log.records) {
    if (!want[r.stream]) continue;
    const line = concat(
      enc.encode(flag(req, "timestamps") ? `${r.time} ` : ""),
      r.text,
      enc.encode(r.partial ? "" : "\n"),
    );
    yield c.host.tty ? line : muxFrame(STREAM_IDS[r.stream], line);
  }
}

/** The container routes. */
export const containerRoutes: Route[] = [
  ["GET", "/containers/json", async ({ e, req }) => json(await list(e, req))],
  ["POST", "/containers/create", async ({ e, req }) => {
    const request = createRequestOf(
      await jsonBody(req),
      req.query.get("name") || undefined,
    );
    const c = await createContainer(e, request);
    return json({ Id: c.id, Warnings: [] }, 201);
  }],
  [
    "GET",
    "/containers/:id/json",
    async ({ e, params }) => json(await dockerInspect(e, params.id)),
  ],
  ["POST", "/containers/:id/start", async ({ e, params }) => {
    const { state } = await containerWithState(e, params.id);
    if (isActive(state)) return noContent(304);
    await startWithClients(e, params.id);
    return noContent();
  }],
  ["POST", "/containers/:id/stop", async ({ e, req, params }) => {
    const { state } = await containerWithState(e, params.id);
    if (!isActive(state)) return noContent(304);
    await stopContainer(e, params.id, queryNumber(req, "t"));
    return noContent();
  }],
  ["POST", "/containers/:id/restart", async ({ e, req, params }) => {
    await restartContainer(e, params.id, queryNumber(req, "t"), true);
    return noContent();
  }],
  ["POST", "/containers/:id/kill", async ({ e, req, params }) => {
    await killContainer(e, params.id, req.query.get("signal") || "SIGKILL");
    return noContent();
  }],
  [
    "POST",
    "/containers/:id/pause",
    async ({ e, params }) => {
      await pauseContainer(e, params.id, true);
      return noContent();
    },
  ],
  [
    "POST",
    "/containers/:id/unpause",
    async ({ e, params }) => {
      await pauseContainer(e, params.id, false);
      return noContent();
    },
  ],
  ["POST", "/containers/:id/wait", async ({ e, req, params }) => {
    const condition =
      (req.query.get("condition") || "not-running") as WaitCondition;
    if (!["not-running", "next-exit", "removed"].includes(condition)) {
      throw invalid(`invalid condition: "${condition}"`);
    }
    const { c } = await containerWithState(e, params.id);
    // The head goes at once: Docker's clients start the container only
    // once the wait is in place.
    return {
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: (async function* () {
        const code = await waitForCondition(e, c.id, condition, req.signal);
        yield enc.encode(JSON.stringify({ StatusCode: code, Error: null }));
      })(),
    };
  }],
  ["DELETE", "/containers/:id", async ({ e, req, params }) => {
    await removeContainer(e, params.id, {
      force: flag(req, "force"),
      volumes: flag(req, "v"),
    });
    return noContent();
  }],
  ["POST", "/containers/:id/rename", async ({ e, req, params }) => {
    const name = req.query.get("name");
    if (!name) throw invalid("a new name is required");
    await renameContainer(e, params.id, name);
    return noContent();
  }],
  ["GET", "/containers/:id/logs", async ({ e, req, params }) => {
    if (!flag(req, "stdout") && !flag(req, "stderr")) {
      throw invalid("you must choose at least one stream");
    }
    const { c } = await containerWithState(e, params.id);
    return {
      status: 200,
      headers: {
        "Content-Type": c.host.tty
          ? "application/vnd.docker.raw-stream"
          : "application/vnd.docker.multiplexed-stream",
      },
      body: logStream(e, c.id, req),
    };
  }],
  ["GET", "/containers/:id/top", async ({ e, req, params }) => {
    const args = (req.query.get("ps_args") ?? "").split(/\s+/).filter(Boolean);
    const lines = await topContainer(e, params.id, args);
    const [head = "", ...rows] = lines;
    const titles = head.trim().split(/\s+/);
    return json({
      Titles: titles,
      Processes: rows.map((l) => {
        const cols = l.trim().split(/\s+/);
        return [
          ...cols.slice(0, titles.length - 1),
          cols.slice(titles.length - 1).join(" "),
        ];
      }),
    });
  }],
  ["GET", "/containers/:id/changes", async ({ e, params }) => {
    const kinds: Record<string, number> = { C: 0, A: 1, D: 2 };
    const changes = await diffObject(e, params.id, "container");
    return json(changes.map((c) => ({ Path: c.path, Kind: kinds[c.kind] })));
  }],
  ["GET", "/containers/:id/export", async ({ e, params }) => {
    const { c } = await containerWithState(e, params.id);
    return {
      status: 200,
      headers: { "Content-Type": "application/x-tar" },
      body: produced((sink) => exportContainer(e, c.id, sink)),
    };
  }],
  ["POST", "/containers/prune", async ({ e, req }) => {
    const r = await pruneContainers(e, filterArgs(req));
    return json({ ContainersDeleted: r.removed, SpaceReclaimed: 0 });
  }],
];
