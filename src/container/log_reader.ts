/**
 * Reading a container's log as `logs` does: the rotated files oldest
 * first, then the live one, filtered by time and cut to the last lines;
 * with follow, the records appended after, through the monitor's
 * rotations, until the container stops.
 */
import {
  type LogFormat,
  type LogRecord,
  parseRecord,
  recordMs,
} from "./log.ts";
import { logFiles } from "./log_writer.ts";

/** Which records `logs` shows: --since/--until as times, --tail as a count. */
export interface LogFilter {
  since?: number;
  until?: number;
  /** Keep only the last N lines; undefined keeps all. */
  tail?: number;
}

/** Where a container's log is and how it is written. */
export interface LogSource {
  path: string;
  format: LogFormat;
  /** Rotated files the writer keeps. */
  maxFile?: number;
}

function keep(r: LogRecord, f: LogFilter): boolean {
  const t = recordMs(r.time);
  return (f.since === undefined || t >= f.since) &&
    (f.until === undefined || t <= f.until);
}

/** Splits bytes into lines; an unfinished last line waits for its rest. */
class Lines {
  private rest = new Uint8Array();
  /** The complete lines of what came so far, after `data`. */
  push(data: Uint8Array): Uint8Array[] {
    const buf = this.rest.length === 0 ? data : concat(this.rest, data);
    const out: Uint8Array[] = [];
    let from = 0;
    for (let nl; (nl = buf.indexOf(10, from)) >= 0; from = nl + 1) {
      out.push(buf.subarray(from, nl));
    }
    this.rest = buf.slice(from);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A file read on as it grows, that notices when it was rotated away. */
class Tail {
  private file?: Deno.FsFile;
  private ino?: number;
  private lines = new Lines();
  constructor(private path: string) {}

  private readAll(file: Deno.FsFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const buf = new Uint8Array(1 << 20);
      const n = file.readSync(buf);
      if (n === null || n === 0) return out;
      out.push(...this.lines.push(buf.subarray(0, n)));
    }
  }

  /** The complete lines appended since the last call. */
  next(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.file) {
      out.push(...this.readAll(this.file));
      let now: number | undefined;
      try {
        now = Deno.statSync(this.path).ino ?? undefined;
      } catch { /* between the rename and the new file */ }
      if (now === this.ino) return out;
      // Rotated: what was written to the old file before is read above.
      this.file.close();
      this.file = undefined;
    }
    try {
      this.file = Deno.openSync(this.path);
      this.ino = this.file.statSync().ino ?? undefined;
      out.push(...this.readAll(this.file));
    } catch { /* not there (yet) */ }
    return out;
  }

  close() {
    this.file?.close();
  }
}

/**
 * The last `n` lines of `recs` as Podman 4.3 counts them: a full record
 * with the partial ones after it (a prompt, the rest of a cut line) is one
 * line, their texts joined on its stream.
 */
function lastLines(recs: LogRecord[], n: number): LogRecord[] {
  if (n === 0) return [];
  const lines: LogRecord[] = [];
  for (const r of recs) {
    const last = lines.at(-1);
    if (r.partial && last) {
      lines[lines.length - 1] = { ...last, text: concat(last.text, r.text) };
    } else lines.push(r);
  }
  return lines.slice(-n);
}

/** The lines of a whole file; none when it is missing. */
function fileLines(path: string): Uint8Array[] {
  try {
    return new Lines().push(Deno.readFileSync(path));
  } catch {
    return [];
  }
}

/**
 * The records of a log, then, while `more()` says the container may still
 * write, the ones appended after: `logs -f`.
 */
export async function* followLog(
  src: LogSource,
  filter: LogFilter,
  more: () => Promise<boolean>,
  pollMs = 100,
): AsyncGenerator<LogRecord> {
  const parse = (lines: Uint8Array[]) =>
    lines.flatMap((l) => parseRecord(l, src.format) ?? [])
      .filter((r) => keep(r, filter));
  const tail = new Tail(src.path);
  try {
    let alive = await more();
    const old = logFiles(src.path, src.maxFile).slice(1).reverse()
      .flatMap(fileLines);
    const recs = parse([...old, ...tail.next()]);
    yield* filter.tail === undefined ? recs : lastLines(recs, filter.tail);
    while (alive) {
      await new Promise((ok) => setTimeout(ok, pollMs));
      alive = await more();
      yield* parse(tail.next());
    }
  } finally {
    tail.close();
  }
}
