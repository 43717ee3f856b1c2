/**
 * `ptd system service`: the Docker-compatible REST API on a unix socket
 * (or, when asked, TCP), a front end beside the CLI over the same engine.
 * Like Podman's, it is started on demand (by the user, or by systemd
 * through socket activation: activation.ts) and exits once idle; containers keep running
 * after it, each under its own monitor.
 */
import { userEngine } from "../engine/engine.ts";
import { PTD_VERSION } from "../engine/system.ts";
import { asPtdError, conflict, invalid, isKind } from "../runtime/errors.ts";
import { ensureDir } from "../storage/paths.ts";
import { activatedListener } from "./activation.ts";
import { archiveRoutes } from "./archive.ts";
import { attachRoutes } from "./attach.ts";
import { buildRoutes } from "./build.ts";
import { containerRoutes } from "./containers.ts";
import { eventRoutes } from "./events.ts";
import { execRoutes } from "./exec.ts";
import { type RawConn, serveConnection } from "./http.ts";
import { imageRoutes } from "./images.ts";
import { networkRoutes } from "./networks.ts";
import { API_VERSION, router } from "./router.ts";
import { statsRoutes } from "./stats.ts";
import { systemRoutes } from "./system.ts";
import { volumeRoutes } from "./volumes.ts";

/** How the service runs. */
export interface ServiceOptions {
  /** unix:///path or tcp://HOST:PORT; default unix://RUNTIME/ptd.sock. */
  uri?: string;
  /** Seconds without a connection before it exits; 0: never. */
  idleSeconds: number;
}

/** Where to listen, from a URI. */
type Endpoint =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; hostname: string; port: number };

/** The endpoint a URI names (the default: the user's runtime directory). */
export function parseEndpoint(
  uri: string | undefined,
  runtime: string,
): Endpoint {
  if (uri === undefined) return { kind: "unix", path: `${runtime}/ptd.sock` };
  const unix = /^unix:\/\/(\/.+)$/.exec(uri);
  if (unix) return { kind: "unix", path: unix[1] };
  const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(uri);
  if (tcp && Number(tcp[2]) < 65536) {
    return {
      kind: "tcp",
      hostname: tcp[1].replace(/^\[|\]$/g, ""),
      port: Number(tcp[2]),
    };
  }
  throw invalid(
    `${uri}: not a valid listening URI (unix:///PATH or tcp://HOST:PORT)`,
  );
}

/**
 * A unix socket only its user reaches: in a 0700 directory (made when
 * missing), itself 0600; a stale socket of an earlier run is replaced, a
 * live one (another service) is a conflict.
 */
async function listenUnix(path: string): Promise<Deno.Listener> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  ensureDir(dir);
  let stale = false;
  try {
    stale = !!Deno.lstatSync(path).isSocket;
  } catch { /* none */ }
  if (stale) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      throw conflict(`${path}: another service listens there`);
    } catch (e) {
      if (isKind(e, "conflict")) throw e;
    }
    Deno.removeSync(path);
  }
  const listener = Deno.listen({ transport: "unix", path });
  Deno.chmodSync(path, 0o600);
  return listener;
}

/** Calls `fire` after `ms` without an open connection (never for 0). */
class IdleTimer {
  #open = 0;
  #timer?: ReturnType<typeof setTimeout>;

  constructor(readonly ms: number, readonly fire: () => void) {
    this.#arm();
  }

  opened() {
    this.#open++;
    clearTimeout(this.#timer);
  }

  closed() {
    if (--this.#open === 0) this.#arm();
  }

  #arm() {
    if (this.ms > 0) this.#timer = setTimeout(this.fire, this.ms);
  }
}

/** Runs the service until it is idle for long enough or told to stop. */
export async function runService(opts: ServiceOptions): Promise<number> {
  const e = userEngine();
  const endpoint = parseEndpoint(opts.uri, e.paths.runtime);
  const activated = activatedListener();
  let listener: AsyncIterable<RawConn> & { close(): void };
  if (activated) listener = activated;
  else if (endpoint.kind === "unix") {
    listener = await listenUnix(endpoint.path);
  } else {
    listener = Deno.listen({
      hostname: endpoint.hostname,
      port: endpoint.port,
    });
    console.error(
      `WARNING: the API on ${opts.uri} is unauthenticated: whoever reaches it runs containers as you`,
    );
  }
  const handler = router(e, [
    ...systemRoutes,
    ...eventRoutes,
    ...containerRoutes,
    ...statsRoutes,
    ...attachRoutes,
    ...archiveRoutes,
    ...execRoutes,
    ...imageRoutes,
    ...buildRoutes,
    ...volumeRoutes,
    ...networkRoutes,
  ]);
  const common = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    Ostype: "linux",
    Server: `ptd/${PTD_VERSION} (linux)`,
  };
  const stop = () => {
    try {
      listener.close();
    } catch { /* closed already */ }
  };
  const idle = new IdleTimer(opts.idleSeconds * 1000, stop);
  // One request's stray failure must not take the service (and every other
  // client's stream) down: it is reported, and the service goes on.
  globalThis.addEventListener("unhandledrejection", (ev) => {
    ev.preventDefault();
    console.error(`ptd system service: ${asPtdError(ev.reason).message}`);
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, stop);
  }
  try {
    for await (const conn of listener) {
      idle.opened();
      serveConnection(conn, handler, common).finally(() => idle.closed());
    }
  } catch { /* the listener closed */ }
  // An inherited socket is systemd's: it stays for the next activation.
  if (!activated && endpoint.kind === "unix") {
    try {
      Deno.removeSync(endpoint.path);
    } catch { /* gone already */ }
  }
  return 0;
}
