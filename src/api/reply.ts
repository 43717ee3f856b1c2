/**
 * Docker's reply shapes: JSON bodies, `{"message": ...}` errors with the
 * status of the PtdError's kind, and the frames of a multiplexed stream.
 */
import { asPtdError, invalid } from "../runtime/errors.ts";
import type { HttpReply, HttpRequest } from "./http.ts";

/** A JSON reply. */
export function json(value: unknown, status = 200): HttpReply {
  return {
    status,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(value) + "\n",
  };
}

/** An empty reply (204 unless told). */
export const noContent = (status = 204): HttpReply => ({ status });

/** Any thrown value as Docker's error reply. */
export function errorReply(e: unknown): HttpReply {
  const err = asPtdError(e);
  return json({ message: err.message }, err.httpStatus);
}

/** The request's JSON body (an object), or a 400. */
export async function jsonBody(
  req: HttpRequest,
): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await req.body());
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalid(`invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw invalid("invalid JSON: the body must be an object");
  }
  return v as Record<string, unknown>;
}

/** Docker's stream ids in a multiplexed frame. */
export const STREAM_IDS = { stdin: 0, stdout: 1, stderr: 2 } as const;

/** One frame of a multiplexed stream: [stream, 0, 0, 0, size BE32] + data. */
export function muxFrame(stream: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, data.length);
  out.set(data, 8);
  return out;
}

/** A query flag as Docker's clients send them ("1", "true"). */
export function flag(req: HttpRequest, name: string): boolean {
  const v = req.query.get(name);
  return v === "1" || v === "true" || v === "True";
}

/** Docker's `filters` query (JSON of key -> [values] or {value: true}) as KEY=VALUE. */
export function filterArgs(req: HttpRequest): string[] {
  const raw = req.query.get("filters");
  if (!raw) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filters: ${raw}`);
  }
  if (v === null || typeof v !== "object") {
    throw invalid(`invalid filters: ${raw}`);
  }
  return Object.entries(v).flatMap(([k, vals]) =>
    (Array.isArray(vals) ? vals : Object.keys(vals ?? {})).map((x) =>
      `${k}=${x}`
    )
  );
}

/**
 * What `produce` writes to its sink, as a stream a reply can send (an
 * engine call that writes a tar); its failure errors the stream, and a
 * reader gone fails its writes.
 */
export function produced(
  produce: (sink: { write(p: Uint8Array): Promise<number> }) => Promise<void>,
): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  produce({
    write: async (p) => {
      await writer.write(p.slice());
      return p.length;
    },
  }).then(() => writer.close(), (err) => writer.abort(err)).catch(() => {});
  return readable;
}
