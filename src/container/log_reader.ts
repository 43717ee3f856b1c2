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

/** A file read on as it grows, that notices when it was rotated away. */
class Tail {
  private file?: Deno.FsFile;
  private ino?: number;
  private dec = new TextDecoder();
  private rest = "";
  constructor(private path: string) {}

  private readAll(file: Deno.FsFile): string {
    const buf = new Uint8Array(1 << 20);
    let text = "";
    for (let n; (n = file.readSync(buf)) !== null && n > 0;) {
      text += this.dec.decode(buf.subarray(0, n), { stream: true });
    }
    return text;
  }

  /** The complete lines appended since the last call. */
  lines(): string[] {
    let text = "";
    if (this.file) {
      text += this.readAll(this.file);
      let now: number | undefined;
      try {
        now = Deno.statSync(this.path).ino ?? undefined;
      } catch { /* between the rename and the new file */ }
      if (now === this.ino) return this.cut(text);
      // Rotated: what was written to the old file before is read above.
      this.file.close();
      this.file = undefined;
    }
    try {
      this.file = Deno.openSync(this.path);
      this.ino = this.file.statSync().ino ?? undefined;
      text += this.readAll(this.file);
    } catch { /* not there (yet) */ }
    return this.cut(text);
  }

  private cut(text: string): string[] {
    const lines = (this.rest + text).split("\n");
    this.rest = lines.pop()!;
    return lines;
  }

  close() {
    this.file?.close();
  }
}

/**
 * The last `n` lines of `recs` as Podman 4.3 gives them: full records
 * only, a partial one (a prompt, a line cut by a read) left out.
 */
function lastLines(recs: LogRecord[], n: number): LogRecord[] {
  return n === 0 ? [] : recs.filter((r) => !r.partial).slice(-n);
}

function readOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
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
  const parse = (lines: string[]) =>
    lines.flatMap((l) => parseRecord(l, src.format) ?? [])
      .filter((r) => keep(r, filter));
  const tail = new Tail(src.path);
  try {
    let alive = await more();
    const old = logFiles(src.path, src.maxFile).slice(1).reverse()
      .flatMap((p) => readOrEmpty(p).split("\n"));
    const recs = parse([...old, ...tail.lines()]);
    yield* filter.tail === undefined ? recs : lastLines(recs, filter.tail);
    while (alive) {
      await new Promise((ok) => setTimeout(ok, pollMs));
      alive = await more();
      yield* parse(tail.lines());
    }
  } finally {
    tail.close();
  }
}
