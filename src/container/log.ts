/**
 * The container log's two file formats, one record per line:
 * - k8s-file (Podman's): `TIME STREAM F|P TEXT`, where P marks a partial
 *   line (the output had no newline yet: a prompt, the rest of a long line)
 *   and F ends one; TIME is local with its offset, as conmon writes it.
 * - json-file (Docker's): `{"log":TEXT,"stream":STREAM,"time":TIME}`, TEXT
 *   with its newline when the line is complete, TIME in UTC.
 * Output is written as it comes, as conmon does: a chunk that ends in the
 * middle of a line leaves a partial record, and readers join them again.
 */

/** Which stream a record came from. */
export type Stream = "stdout" | "stderr";

/** The formats a log file can have. */
export type LogFormat = "k8s-file" | "json-file";

/** One parsed log record. */
export interface LogRecord {
  time: string;
  stream: Stream;
  partial: boolean;
  /** The line's bytes, without its newline. */
  text: Uint8Array;
}

/** Records as file bytes: `data`, and the offset where each record ends. */
export interface Encoded {
  data: Uint8Array;
  ends: number[];
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The time now in ms since the epoch, to the microsecond. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The fraction of a second of a time in ms, as nine digits (to the µs). */
function nanos(ms: number): string {
  const us = Math.min(
    Math.round((ms - Math.floor(ms / 1000) * 1000) * 1e3),
    999999,
  );
  return `${pad(us, 6)}000`;
}

/** RFC 3339 with nanoseconds in local time and its offset (conmon's). */
export function localTime(ms = nowMs()): string {
  const d = new Date(Math.floor(ms));
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(off) / 60))}:${
    pad(Math.abs(off) % 60)
  }`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${nanos(ms)}${zone}`;
}

/** RFC 3339 with nanoseconds in UTC (Docker's json-file time). */
export function utcTime(ms = nowMs()): string {
  return new Date(Math.floor(ms)).toISOString().replace(
    /\.\d{3}Z$/,
    `.${nanos(ms)}Z`,
  );
}

/** A record's time in ms since the epoch (NaN when it is none). */
export function recordMs(time: string): number {
  return Date.parse(time.replace(/(\.\d{3})\d*/, "$1"));
}

/**
 * A record's time as Go prints RFC3339Nano in local time (`logs -t`):
 * trailing zeros of the fraction dropped, "Z" for UTC.
 */
export function displayTime(time: string): string {
  const ms = recordMs(time);
  if (Number.isNaN(ms)) return time;
  const frac = /\.(\d+)/.exec(time)?.[1] ?? "";
  const t = localTime(ms).replace(/\.\d+/, "");
  const digits = frac.padEnd(9, "0").slice(0, 9).replace(/0+$/, "");
  return t.replace(
    /([+-]\d\d:\d\d)$/,
    (z) => `${digits ? `.${digits}` : ""}${z === "+00:00" ? "Z" : z}`,
  );
}

const NEWLINE = 10;
const enc = new TextEncoder();

/** Turns one stream's output into records of a format, chunk by chunk. */
export interface RecordEncoder {
  /** The records of `chunk`, timed `ms`. */
  encode(chunk: Uint8Array, ms?: number): Encoded;
  /** What is left at the end of the stream. */
  end(ms?: number): Encoded;
}

const EMPTY: Encoded = { data: new Uint8Array(), ends: [] };

/** k8s-file: the bytes as they came, each line behind its prefix. */
function k8sEncoder(stream: Stream): RecordEncoder {
  return {
    encode(chunk, ms = nowMs()) {
      if (chunk.length === 0) return EMPTY;
      const head = `${localTime(ms)} ${stream} `;
      const full = enc.encode(`${head}F `), part = enc.encode(`${head}P `);
      let lines = 0;
      for (
        let i = chunk.indexOf(NEWLINE);
        i >= 0;
        i = chunk.indexOf(NEWLINE, i + 1)
      ) lines++;
      const tail = chunk[chunk.length - 1] !== NEWLINE;
      const data = new Uint8Array(
        chunk.length + lines * full.length + (tail ? part.length + 1 : 0),
      );
      const ends: number[] = [];
      let at = 0;
      for (let from = 0; from < chunk.length;) {
        const nl = chunk.indexOf(NEWLINE, from);
        const to = nl < 0 ? chunk.length : nl + 1;
        data.set(nl < 0 ? part : full, at);
        at += full.length;
        data.set(chunk.subarray(from, to), at);
        at += to - from;
        if (nl < 0) data[at++] = NEWLINE;
        ends.push(at);
        from = to;
      }
      return { data, ends };
    },
    end: () => EMPTY,
  };
}

/** Joins encoded lines into one buffer. */
function joined(lines: string[]): Encoded {
  const parts = lines.map((l) => enc.encode(l));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const ends: number[] = [];
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
    ends.push(at);
  }
  return { data, ends };
}

/** json-file: text, so a character cut between chunks waits for its rest. */
function jsonEncoder(stream: Stream): RecordEncoder {
  const dec = new TextDecoder();
  const records = (text: string, ms: number) => {
    if (text === "") return EMPTY;
    const time = utcTime(ms);
    const lines = text.split("\n");
    const last = lines.pop()!;
    const out = lines.map((l) => `${l}\n`);
    if (last !== "") out.push(last);
    return joined(
      out.map((log) => `${JSON.stringify({ log, stream, time })}\n`),
    );
  };
  return {
    encode: (chunk, ms = nowMs()) =>
      records(dec.decode(chunk, { stream: true }), ms),
    end: (ms = nowMs()) => records(dec.decode(), ms),
  };
}

/** An encoder for one stream's output in `format`. */
export function recordEncoder(
  format: LogFormat,
  stream: Stream,
): RecordEncoder {
  return format === "json-file" ? jsonEncoder(stream) : k8sEncoder(stream);
}

const dec = new TextDecoder();
const SPACE = 32;

/**
 * Parses a line of a file in `format` (without its newline); undefined for
 * one that is no record. A k8s-file record's text stays the bytes the
 * container wrote, as Podman prints them (binary output, or a character
 * cut between two records).
 */
export function parseRecord(
  line: Uint8Array,
  format: LogFormat = "k8s-file",
): LogRecord | undefined {
  if (format === "json-file") {
    try {
      const r = JSON.parse(dec.decode(line));
      if (typeof r?.log !== "string") return undefined;
      const partial = !r.log.endsWith("\n");
      return {
        time: String(r.time),
        stream: r.stream === "stderr" ? "stderr" : "stdout",
        partial,
        text: enc.encode(partial ? r.log : r.log.slice(0, -1)),
      };
    } catch {
      return undefined;
    }
  }
  const a = line.indexOf(SPACE), b = line.indexOf(SPACE, a + 1);
  if (a <= 0 || b < 0 || line[b + 2] !== SPACE) return undefined;
  const stream = dec.decode(line.subarray(a + 1, b));
  const flag = line[b + 1];
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  if (flag !== 0x46 /* F */ && flag !== 0x50 /* P */) return undefined;
  return {
    time: dec.decode(line.subarray(0, a)),
    stream,
    partial: flag === 0x50,
    text: line.subarray(b + 3),
  };
}
