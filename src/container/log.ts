/**
 * The container log in Podman's k8s-file format: one record per line,
 * `TIMESTAMP STREAM F|P TEXT`, where P marks a partial line (the text had no
 * newline yet: a prompt, or the last bytes before exit) and F a full one.
 */

/** Which stream a record came from. */
export type Stream = "stdout" | "stderr";

/** One parsed log record. */
export interface LogRecord {
  time: string;
  stream: Stream;
  partial: boolean;
  text: string;
}

/** An RFC 3339 time with nanoseconds, as k8s-file writes it. */
export function logTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** Formats one record as its line in the file (with the newline). */
export function formatRecord(r: LogRecord): string {
  return `${r.time} ${r.stream} ${r.partial ? "P" : "F"} ${r.text}\n`;
}

/** Parses a line of the file; undefined for a line that is not a record. */
export function parseRecord(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) return undefined;
  return {
    time: m[1],
    stream: m[2] as Stream,
    partial: m[3] === "P",
    text: m[4],
  };
}

/** Splits a stream's bytes into records; holds an unfinished line back. */
export class LineSplitter {
  private rest = "";
  private dec = new TextDecoder();
  constructor(readonly stream: Stream) {}

  /** The complete lines in `chunk` (plus what was held back) as records. */
  push(chunk: Uint8Array, now = logTime()): LogRecord[] {
    const text = this.rest + this.dec.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.rest = lines.pop()!;
    return lines.map((t) => ({
      time: now,
      stream: this.stream,
      partial: false,
      text: t,
    }));
  }

  /** What is left at end of stream, as a partial record. */
  end(now = logTime()): LogRecord[] {
    const t = this.rest + this.dec.decode();
    this.rest = "";
    return t === ""
      ? []
      : [{ time: now, stream: this.stream, partial: true, text: t }];
  }
}

/**
 * The log as the monitor writes it. With a maximum size, the file is
 * rotated to PATH.1 (one old file kept) before a write would pass it.
 */
export class LogWriter {
  private file: Deno.FsFile;
  private size: number;
  private enc = new TextEncoder();
  constructor(readonly path: string, readonly maxSize = 0) {
    this.file = this.open();
    this.size = this.file.statSync().size;
  }
  private open() {
    return Deno.openSync(this.path, { append: true, create: true });
  }
  /** Appends records, rotating first when one would pass the maximum. */
  write(recs: LogRecord[]): void {
    for (const r of recs) {
      const data = this.enc.encode(formatRecord(r));
      if (
        this.maxSize > 0 && this.size > 0 &&
        this.size + data.length > this.maxSize
      ) {
        this.file.close();
        Deno.renameSync(this.path, `${this.path}.1`);
        this.file = this.open();
        this.size = 0;
      }
      for (let off = 0; off < data.length;) {
        off += this.file.writeSync(data.subarray(off));
      }
      this.size += data.length;
    }
  }
  close(): void {
    this.file.close();
  }
}

function readOrEmpty(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch {
    return new Uint8Array();
  }
}

/** Which records `logs` shows: --since/--until as times, --tail as a count. */
export interface LogFilter {
  since?: number;
  until?: number;
  /** Keep only the last N records; undefined keeps all. */
  tail?: number;
}

function keep(r: LogRecord, f: LogFilter): boolean {
  const t = Date.parse(r.time);
  return (f.since === undefined || t >= f.since) &&
    (f.until === undefined || t <= f.until);
}

/**
 * The records of a log, then, while `more()` says the container may still
 * write, the ones appended after: `logs -f`.
 */
export async function* followLog(
  path: string,
  filter: LogFilter,
  more: () => Promise<boolean>,
  pollMs = 100,
): AsyncGenerator<LogRecord> {
  let offset = 0;
  let rest = "";
  let first = true;
  const dec = new TextDecoder();
  for (;;) {
    const alive = await more();
    const whole = readOrEmpty(path);
    // Smaller than what was read before: the monitor rotated it.
    if (whole.length < offset) offset = 0;
    let data = whole.subarray(offset);
    offset = whole.length;
    if (first) data = new Uint8Array([...readOrEmpty(`${path}.1`), ...data]);
    const lines = (rest + dec.decode(data, { stream: true })).split("\n");
    rest = lines.pop()!;
    let recs = lines.flatMap((l) => parseRecord(l) ?? []).filter((r) =>
      keep(r, filter)
    );
    if (first && filter.tail !== undefined) {
      recs = filter.tail === 0 ? [] : recs.slice(-filter.tail);
    }
    first = false;
    yield* recs;
    if (!alive) return;
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
}
