/**
 * A small HTTP/1.1 server over any stream connection (a unix or TCP socket
 * from Deno.listen). Deno.serve cannot hand a connection over after an
 * upgrade, and Docker's attach and exec start need exactly that: the
 * client asks for `Upgrade: tcp` and the connection becomes a raw,
 * two-way stream (one side may half-close). So the service speaks HTTP
 * itself: keep-alive, Content-Length and chunked bodies both ways, and
 * hijacked connections.
 */
import { writeAll } from "../storage/blobs.ts";

/** A connection as the server needs it: Deno.Conn fits. */
export interface RawConn {
  /**
   * Not `readable`: that stream closes the whole connection at the end of
   * the input, and Docker's clients half-close theirs after a hijack.
   */
  read(p: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** One request: its head, and its body read on demand. */
export interface HttpRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Map<string, string>;
  /** The body's bytes (empty without one). */
  body(): Promise<Uint8Array>;
  /** The body as a stream, read once. */
  stream(): AsyncIterable<Uint8Array>;
  /** Aborted when the client goes away during a streamed reply. */
  signal: AbortSignal;
}

/** A hijacked connection: what the client sends after the head, and back. */
export interface Hijacked {
  input: AsyncIterable<Uint8Array>;
  write(data: Uint8Array): Promise<void>;
  /** Ends our side; the client may still send. */
  closeWrite(): Promise<void>;
}

/** What a handler answers. */
export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  /** Sent with a Content-Length; a stream is sent chunked, as it comes. */
  body?: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Take the connection over after the head (101 when the client asked). */
  hijack?: (conn: Hijacked) => Promise<void>;
}

export type Handler = (req: HttpRequest) => Promise<HttpReply>;

const enc = new TextEncoder();
const dec = new TextDecoder();
const MAX_HEAD = 64 * 1024;

const REASONS: Record<number, string> = {
  101: "UPGRADED",
  200: "OK",
  201: "Created",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  404: "Not Found",
  409: "Conflict",
  500: "Internal Server Error",
};

/** The bytes of `parts` in one array (the one part itself when alone). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const full = parts.filter((p) => p.length > 0);
  if (full.length === 1) return full[0];
  const out = new Uint8Array(full.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of full) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes read ahead of what the parser took, over the connection. */
class Reader {
  buf: Uint8Array = new Uint8Array();
  #chunk = new Uint8Array(65536);

  constructor(readonly conn: RawConn) {}

  /** The next bytes of the connection, or null at its end. */
  async next(): Promise<Uint8Array | null> {
    const n = await this.conn.read(this.#chunk);
    return n === null ? null : this.#chunk.slice(0, n);
  }

  /** False at the end of the stream. */
  async fill(): Promise<boolean> {
    const b = await this.next();
    if (b === null) return false;
    this.buf = concat(this.buf, b);
    return true;
  }

  /** The bytes before `delim` (dropped too), or null at the end. */
  async until(delim: string, max: number): Promise<Uint8Array | null> {
    const d = enc.encode(delim);
    for (let from = 0;;) {
      const i = indexOf(this.buf, d, from);
      if (i >= 0) {
        const out = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + d.length);
        return out;
      }
      if (this.buf.length > max) throw new Error("header too large");
      from = Math.max(0, this.buf.length - d.length + 1);
      if (!(await this.fill())) return null;
    }
  }

  /** Up to `n` bytes, at least one; null at the end. */
  async some(n: number): Promise<Uint8Array | null> {
    if (this.buf.length === 0 && !(await this.fill())) return null;
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(out.length);
    return out;
  }

  /** What is buffered, then the rest of the stream. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.buf.length > 0) {
      const b = this.buf;
      this.buf = new Uint8Array();
      yield b;
    }
    for (let b; (b = await this.next()) !== null;) yield b;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** The body of a request: Content-Length bytes, or chunked. */
async function* bodyOf(
  r: Reader,
  headers: Map<string, string>,
): AsyncGenerator<Uint8Array> {
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    for (;;) {
      const line = await r.until("\r\n", 1024);
      if (line === null) throw new Error("truncated chunked body");
      const size = parseInt(dec.decode(line).split(";")[0], 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) {
        // Trailers, up to the empty line.
        while ((await r.until("\r\n", MAX_HEAD))?.length) { /* skipped */ }
        return;
      }
      for (let left = size; left > 0;) {
        const b = await r.some(left);
        if (b === null) throw new Error("truncated chunked body");
        left -= b.length;
        yield b;
      }
      await r.until("\r\n", 16);
    }
  }
  for (let left = Number(headers.get("content-length") ?? 0); left > 0;) {
    const b = await r.some(left);
    if (b === null) throw new Error("truncated body");
    left -= b.length;
    yield b;
  }
}

function head(status: number, headers: Record<string, string>): Uint8Array {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return enc.encode(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Serves HTTP on `conn` until the client closes it (or a reply ends it);
 * `common` headers go on every reply.
 */
export async function serveConnection(
  conn: RawConn,
  handler: Handler,
  common: Record<string, string>,
): Promise<void> {
  const r = new Reader(conn);
  try {
    for (;;) {
      const raw = await r.until("\r\n\r\n", MAX_HEAD);
      if (raw === null) return;
      const [start, ...lines] = dec.decode(raw).split("\r\n");
      const [method, target] = start.split(" ");
      if (!method || !target) return;
      const headers = new Map<string, string>();
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) {
          headers.set(
            l.slice(0, i).trim().toLowerCase(),
            l.slice(i + 1).trim(),
          );
        }
      }
      const url = new URL(target, "http://ptd");
      const body = bodyOf(r, headers);
      const abort = new AbortController();
      const req: HttpRequest = {
        method,
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers,
        signal: abort.signal,
        stream: () => body,
        body: async () => {
          let all: Uint8Array = new Uint8Array();
          for await (const b of body) all = concat(all, b);
          return all;
        },
      };
      const reply = await handler(req);
      // Whatever the handler left of the body goes before the next request.
      if (!reply.hijack) { for await (const _ of body) { /* drained */ } }
      const keep = await sendReply(conn, r, req, reply, common, abort);
      if (!keep) return;
    }
  } catch {
    /* the client went away, or spoke no HTTP: nothing to answer */
  } finally {
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}

/** Writes `reply`; false when the connection cannot serve another request. */
async function sendReply(
  conn: RawConn,
  r: Reader,
  req: HttpRequest,
  reply: HttpReply,
  common: Record<string, string>,
  abort: AbortController,
): Promise<boolean> {
  const headers = { ...common, ...reply.headers };
  if (reply.hijack) {
    const upgrade = /upgrade/i.test(req.headers.get("connection") ?? "");
    await writeAll(
      conn,
      head(
        upgrade ? 101 : reply.status,
        upgrade
          ? { ...headers, Connection: "Upgrade", Upgrade: "tcp" }
          : headers,
      ),
    );
    await reply.hijack({
      input: r.rest(),
      write: async (data) => {
        await writeAll(conn, data);
      },
      closeWrite: () => conn.closeWrite(),
    });
    return false;
  }
  const b = reply.body;
  if (b === undefined || typeof b === "string" || b instanceof Uint8Array) {
    const bytes = typeof b === "string" ? enc.encode(b) : b ?? new Uint8Array();
    const noBody = req.method === "HEAD" || reply.status === 204 ||
      reply.status === 304;
    await writeAll(
      conn,
      concat(
        head(reply.status, {
          ...headers,
          ...(reply.status === 204
            ? {}
            : { "Content-Length": `${bytes.length}` }),
        }),
        noBody ? new Uint8Array() : bytes,
      ),
    );
    return true;
  }
  // A streamed reply: the client hanging up aborts the handler's work.
  watchHangUp(r, abort);
  await writeAll(
    conn,
    head(reply.status, { ...headers, "Transfer-Encoding": "chunked" }),
  );
  const it = b[Symbol.asyncIterator]();
  // The body may wait long for its next chunk (a wait, logs -f): a client
  // gone meanwhile ends the reply at once, not at that chunk.
  const hungUp = new Promise<never>((_, fail) => {
    const gone = () => fail(abort.signal.reason);
    if (abort.signal.aborted) gone();
    abort.signal.addEventListener("abort", gone, { once: true });
  });
  hungUp.catch(() => {});
  try {
    for (;;) {
      const next = await Promise.race([it.next(), hungUp]);
      if (next.done) break;
      if (next.value.length === 0) continue;
      await writeAll(
        conn,
        concat(
          enc.encode(`${next.value.length.toString(16)}\r\n`),
          concat(next.value, enc.encode("\r\n")),
        ),
      );
    }
    await writeAll(conn, enc.encode("0\r\n\r\n"));
  } finally {
    abort.abort();
    // Not awaited: a body still waiting would hold the connection.
    it.return?.().catch(() => {});
  }
  return false;
}

/** Aborts `abort` when the client closes its side during a streamed reply. */
function watchHangUp(r: Reader, abort: AbortController) {
  (async () => {
    try {
      while (!abort.signal.aborted && await r.fill()) { /* keep reading */ }
    } catch { /* the connection failed: that is a hang-up too */ }
    abort.abort();
  })();
}
