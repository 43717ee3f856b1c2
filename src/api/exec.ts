/**
 * Exec routes: create records what to run, start runs it (detached, or
 * relayed over the client's hijacked connection), resize sets its
 * terminal, inspect reports its exit code. Sessions live in this process,
 * as in Docker's daemon, and are forgotten a while after they end.
 */
import type { ExecStreams } from "../container/exec.ts";
import type { Engine } from "../engine/engine.ts";
import { execSession } from "../engine/lifecycle.ts";
import { containerWithState, findContainer } from "../engine/listing.ts";
import { isActive } from "../container/liveness.ts";
import { randomId } from "../container/store.ts";
import { asPtdError, conflict, invalid, notFound } from "../runtime/errors.ts";
import type { Hijacked } from "./http.ts";
import { json, jsonBody, muxFrame, noContent, STREAM_IDS } from "./reply.ts";
import type { Route } from "./router.ts";

interface Session {
  id: string;
  containerId: string;
  command: string[];
  env: string[];
  user?: string;
  workdir?: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  running: boolean;
  exitCode: number | null;
  streams?: ExecStreams;
  /** The last size asked for: a resize may come before the streams exist. */
  size?: [number, number];
}

const sessions = new Map<string, Session>();
/** How long an ended session stays for its inspect. */
const KEEP_MS = 5 * 60_000;

function session(id: string): Session {
  const s = sessions.get(id);
  if (!s) throw notFound(`No such exec instance: ${id}`);
  return s;
}

function bool(v: unknown): boolean {
  return v === true;
}

/** Relays a session's streams over the hijacked connection until it ends. */
async function relay(s: Session, io: Hijacked, streams: ExecStreams) {
  (async () => {
    for await (const chunk of io.input) {
      streams.write(chunk as Uint8Array<ArrayBuffer>);
    }
    streams.closeStdin();
  })().catch(() => {/* the command is gone */});
  let clientGone = false;
  for await (const [stream, data] of streams.output) {
    if (clientGone || (stream === "stderr" ? !s.stderr : !s.stdout)) continue;
    try {
      await io.write(s.tty ? data : muxFrame(STREAM_IDS[stream], data));
    } catch {
      clientGone = true; // keep draining: the command must not block
    }
  }
}

/** Runs the session; its exit code is recorded before the stream ends. */
async function run(e: Engine, s: Session, io?: Hijacked): Promise<void> {
  s.running = true;
  let streams: ExecStreams | undefined;
  try {
    streams = await execSession(e, s.containerId, {
      command: s.command,
      env: s.env,
      user: s.user,
      workdir: s.workdir,
      interactive: s.stdin && io !== undefined,
      detach: false,
      tty: s.tty,
    });
    s.streams = streams;
    if (s.size) streams.resize(...s.size);
    const relayed = io ? relay(s, io, streams) : drain(streams);
    const [code] = await Promise.all([streams.exit, relayed]);
    s.exitCode = code;
  } catch (err) {
    const pe = asPtdError(err);
    s.exitCode = pe.exitCode;
    const text = new TextEncoder().encode(`${pe.message}\r\n`);
    await io?.write(s.tty ? text : muxFrame(STREAM_IDS.stderr, text))
      .catch(() => {});
  } finally {
    s.running = false;
    s.streams = undefined;
    const t = setTimeout(() => sessions.delete(s.id), KEEP_MS);
    Deno.unrefTimer(t);
  }
}

async function drain(streams: ExecStreams) {
  for await (const _ of streams.output) { /* detached: output discarded */ }
}

/** The exec routes. */
export const execRoutes: Route[] = [
  ["POST", "/containers/:id/exec", async ({ e, req, params }) => {
    const body = await jsonBody(req);
    const { c, state } = await containerWithState(e, params.id);
    if (!isActive(state)) {
      throw conflict(`Container ${c.id} is not running`);
    }
    const cmd = body.Cmd;
    if (
      !Array.isArray(cmd) || cmd.length === 0 ||
      !cmd.every((x) => typeof x === "string")
    ) {
      throw invalid("No exec command specified");
    }
    const id = randomId();
    sessions.set(id, {
      id,
      containerId: c.id,
      command: cmd,
      env: Array.isArray(body.Env) ? body.Env as string[] : [],
      user: typeof body.User === "string" && body.User ? body.User : undefined,
      workdir: typeof body.WorkingDir === "string" && body.WorkingDir
        ? body.WorkingDir
        : undefined,
      tty: bool(body.Tty),
      stdin: bool(body.AttachStdin),
      stdout: bool(body.AttachStdout),
      stderr: bool(body.AttachStderr),
      running: false,
      exitCode: null,
    });
    return json({ Id: id }, 201);
  }],
  ["POST", "/exec/:id/start", async ({ e, req, params }) => {
    const s = session(params.id);
    const body = await jsonBody(req);
    if (s.running || s.exitCode !== null) {
      throw conflict(`exec session ${s.id} has already been started`);
    }
    findContainer(e, s.containerId);
    if (bool(body.Detach)) {
      run(e, s);
      return noContent(200);
    }
    return {
      status: 200,
      headers: {
        "Content-Type": s.tty
          ? "application/vnd.docker.raw-stream"
          : "application/vnd.docker.multiplexed-stream",
      },
      hijack: (io) => run(e, s, io),
    };
  }],
  ["POST", "/exec/:id/resize", ({ req, params }) => {
    const s = session(params.id);
    const h = Number(req.query.get("h") ?? 0),
      w = Number(req.query.get("w") ?? 0);
    if (h > 0 && w > 0) {
      s.size = [h, w];
      s.streams?.resize(h, w);
    }
    return Promise.resolve(noContent(200));
  }],
  ["GET", "/exec/:id/json", ({ params }) => {
    const s = session(params.id);
    return Promise.resolve(json({
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: {
        tty: s.tty,
        entrypoint: s.command[0],
        arguments: s.command.slice(1),
        privileged: false,
        user: s.user ?? "",
      },
      OpenStdin: s.stdin,
      OpenStderr: s.stderr,
      OpenStdout: s.stdout,
      CanRemove: false,
      ContainerID: s.containerId,
      DetachKeys: "",
      Pid: 0,
    }));
  }],
];
