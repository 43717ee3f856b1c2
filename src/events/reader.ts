/**
 * Reading the events file: the older generation (events.log.1) then the
 * current one, line by line; following, like `tail -f`, the lines other
 * processes append, across a rotation. A line still being written (no
 * newline yet) waits for its end; a line that is not an event is skipped.
 */
import type { EventRecord } from "./record.ts";

/** Which events to read, and whether to wait for more. */
export interface ReadOptions {
  /** Unix ms: only events at or after it. */
  since?: number;
  /** Unix ms: only events at or before it; following ends there. */
  until?: number;
  /**
   * Wait for new events. Without `since`, only those written from now on
   * (Podman's stream); with it, the past ones first.
   */
  follow?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /** How often a followed file is looked at. */
  pollMs?: number;
}

/** An event's time in Unix ms (Date.parse takes at most 3 digits of fraction). */
export function eventMs(e: EventRecord): number {
  return Date.parse(e.Time.replace(/(\.\d{3})\d+/, "$1"));
}

/** The events in complete lines of `text`; the unfinished rest is returned. */
function parseLines(text: string): [EventRecord[], string] {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  const out: EventRecord[] = [];
  for (const line of lines) {
    try {
      const e = JSON.parse(line);
      if (e && typeof e.Status === "string" && typeof e.Time === "string") {
        out.push(e);
      }
    } catch { /* not an event (a torn or foreign line): skipped */ }
  }
  return [out, rest];
}

/** The whole of a file as text, "" when there is none. */
function readAll(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

/** A file being followed: its handle and the text not yet a whole line. */
class Tail {
  #rest = "";
  #dec = new TextDecoder();
  #buf = new Uint8Array(65536);

  constructor(readonly file: Deno.FsFile, readonly ino: number | null) {}

  static open(path: string, atEnd: boolean): Tail | undefined {
    try {
      const f = Deno.openSync(path, { read: true });
      if (atEnd) f.seekSync(0, Deno.SeekMode.End);
      return new Tail(f, f.statSync().ino);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** The events appended since the last look. */
  more(): EventRecord[] {
    let text = this.#rest;
    for (let n; (n = this.file.readSync(this.#buf)) !== null && n > 0;) {
      text += this.#dec.decode(this.#buf.subarray(0, n), { stream: true });
    }
    const [events, rest] = parseLines(text);
    this.#rest = rest;
    return events;
  }
}

/** The inode now at `path`, null when there is no file. */
function inode(path: string): number | null {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return null;
  }
}

/** The events of `path` (and its rotated older part) as `opts` select them. */
export async function* readEvents(
  path: string,
  opts: ReadOptions = {},
): AsyncGenerator<EventRecord> {
  const inTime = (e: EventRecord) => {
    const t = eventMs(e);
    return (opts.since === undefined || t >= opts.since) &&
      (opts.until === undefined || t <= opts.until);
  };
  const past = !opts.follow || opts.since !== undefined;
  let tail: Tail | undefined;
  if (past) {
    yield* parseLines(readAll(`${path}.1`))[0].filter(inTime);
    tail = Tail.open(path, false);
  } else tail = Tail.open(path, true);
  try {
    if (tail) yield* tail.more().filter(inTime);
    if (!opts.follow) return;
    const pause = opts.pollMs ?? 100;
    while (!opts.signal?.aborted) {
      if (opts.until !== undefined && Date.now() > opts.until) return;
      await new Promise((ok) => setTimeout(ok, pause));
      const now = inode(path);
      if (tail && now !== tail.ino) {
        // Rotated (or removed): the rest of the old file, then the new one.
        yield* tail.more().filter(inTime);
        tail.file.close();
        tail = undefined;
      }
      tail ??= now === null ? undefined : Tail.open(path, false);
      if (tail) yield* tail.more().filter(inTime);
    }
  } finally {
    tail?.file.close();
  }
}
