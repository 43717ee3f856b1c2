/**
 * `POST /containers/{id}/attach`: the client's hijacked connection relayed
 * to the container's monitor (src/container/attach.ts frames). Docker's
 * clients attach before they start a container, so that no output is
 * lost: an attach to a container that does not run waits here until the
 * start route starts it with its clients connected first.
 */
import {
  EXIT,
  frame,
  frames,
  RESIZE,
  STDERR,
  STDIN,
  STDIN_CLOSED,
} from "../container/attach.ts";
import { writeAll } from "../storage/blobs.ts";
import type { Engine } from "../engine/engine.ts";
import { attachSocket, startContainer } from "../engine/lifecycle.ts";
import { containerWithState, findContainer } from "../engine/listing.ts";
import { isActive } from "../container/liveness.ts";
import type { Hijacked, HttpReply } from "./http.ts";
import { flag, muxFrame, noContent } from "./reply.ts";
import type { Call, Route } from "./router.ts";

/** What one attached client asked for. */
interface Client {
  io: Hijacked;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Clients waiting for their container's start, by container id. */
const waiting = new Map<string, ((conn?: Deno.UnixConn) => void)[]>();

/** Relays between a client and the monitor until either side ends. */
async function relay(conn: Deno.UnixConn, cl: Client): Promise<void> {
  (async () => {
    for await (const chunk of cl.io.input) {
      if (cl.stdin) {
        await writeAll(conn, frame(STDIN, chunk as Uint8Array<ArrayBuffer>));
      }
    }
    if (cl.stdin) await writeAll(conn, frame(STDIN_CLOSED));
  })().catch(() => {/* the container is gone */});
  try {
    for await (const [kind, data] of frames(conn.readable)) {
      if (kind === EXIT) break;
      if (kind === STDERR ? !cl.stderr : !cl.stdout) continue;
      await cl.io.write(cl.tty ? data : muxFrame(kind, data));
    }
  } catch {
    /* the client or the monitor went away */
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/**
 * Starts the container `ref` names with the clients waiting for it
 * connected before its command runs; a client whose container fails to
 * start is let go.
 */
export async function startWithClients(e: Engine, ref: string): Promise<void> {
  const id = findContainer(e, ref).id;
  const clients = waiting.get(id) ?? [];
  waiting.delete(id);
  try {
    await startContainer(e, id, {
      reap: true,
      attach: clients.length === 0 ? undefined : async () => {
        for (const give of clients) give(await attachSocket(e, id, 10_000));
      },
    });
  } finally {
    for (const give of clients) give();
  }
}

const attach: Route[2] = async ({ e, req, params }: Call) => {
  const { c, state } = await containerWithState(e, params.id);
  const cl = (io: Hijacked): Client => ({
    io,
    stdin: flag(req, "stdin"),
    stdout: flag(req, "stdout"),
    stderr: flag(req, "stderr"),
    tty: c.host.tty,
  });
  const reply = (run: (io: Hijacked) => Promise<void>): HttpReply => ({
    status: 200,
    headers: { "Content-Type": "application/vnd.docker.raw-stream" },
    hijack: run,
  });
  if (isActive(state)) {
    const conn = await attachSocket(e, c.id);
    return reply((io) => relay(conn, cl(io)));
  }
  // Not running: this client waits for the start (registered now, before
  // the reply, so a start right after it finds the client).
  const given = new Promise<Deno.UnixConn | undefined>((ok) => {
    const list = waiting.get(c.id) ?? [];
    let done = false;
    list.push((conn) => {
      if (!done) ok(conn);
      done = true;
    });
    waiting.set(c.id, list);
  });
  return reply(async (io) => {
    const conn = await given;
    if (conn) await relay(conn, cl(io));
  });
};

/** Sends a terminal size to the container's monitor, if it runs. */
async function resize(e: Engine, ref: string, h: number, w: number) {
  let conn;
  try {
    conn = await attachSocket(e, ref);
  } catch {
    return; // not running: nothing to resize
  }
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint16(0, h);
  new DataView(b.buffer).setUint16(2, w);
  try {
    await writeAll(conn, frame(RESIZE, b));
  } finally {
    conn.close();
  }
}

/** attach and resize. */
export const attachRoutes: Route[] = [
  ["POST", "/containers/:id/attach", attach],
  ["POST", "/containers/:id/resize", async ({ e, req, params }) => {
    await resize(
      e,
      params.id,
      Number(req.query.get("h") ?? 0),
      Number(req.query.get("w") ?? 0),
    );
    return noContent(200);
  }],
];
