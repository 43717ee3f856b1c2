/**
 * The log as the monitor writes it. With a maximum size, the file is
 * rotated before a record would pass it: PATH becomes PATH.1, PATH.1
 * PATH.2 and so on up to `maxFile` rotated files (one by default), the
 * oldest dropped, so the newest output is always kept. Each chunk of output
 * is one write (two around a rotation): the container's pipe is drained as
 * fast as it fills.
 */
import {
  type Encoded,
  type LogFormat,
  type RecordEncoder,
  recordEncoder,
  type Stream,
} from "./log.ts";

/** How big the log may grow. */
export interface LogLimits {
  /** Bytes of the live file; 0 or absent: unbounded. */
  maxSize?: number;
  /** Rotated files kept besides the live one (default 1). */
  maxFile?: number;
}

/** The files of a log, newest first: PATH, PATH.1, ... PATH.maxFile. */
export function logFiles(path: string, maxFile = 1): string[] {
  return [
    path,
    ...Array.from({ length: maxFile }, (_, i) => `${path}.${i + 1}`),
  ];
}

/** Appends a container's output to its log file, rotating it at its limit. */
export class LogWriter {
  private file: Deno.FsFile;
  private size: number;
  private encoders: Record<Stream, RecordEncoder>;
  constructor(
    readonly path: string,
    format: LogFormat,
    readonly limits: LogLimits = {},
  ) {
    this.file = this.open();
    this.size = this.file.statSync().size;
    this.encoders = {
      stdout: recordEncoder(format, "stdout"),
      stderr: recordEncoder(format, "stderr"),
    };
  }

  private open() {
    return Deno.openSync(this.path, { append: true, create: true });
  }

  private rotate() {
    this.file.close();
    const files = logFiles(this.path, this.limits.maxFile ?? 1);
    for (let i = files.length - 1; i > 0; i--) {
      try {
        Deno.renameSync(files[i - 1], files[i]);
      } catch { /* not there yet */ }
    }
    this.file = this.open();
    this.size = 0;
  }

  private append(data: Uint8Array) {
    for (let off = 0; off < data.length;) {
      off += this.file.writeSync(data.subarray(off));
    }
    this.size += data.length;
  }

  private writeRecords({ data, ends }: Encoded) {
    const max = this.limits.maxSize ?? 0;
    let from = 0;
    while (from < data.length) {
      // The most records that fit; at least one, into an empty file.
      let to = from;
      for (const end of ends) {
        if (end <= from) continue;
        if (
          max > 0 && this.size + end - from > max &&
          (to > from || this.size > 0)
        ) break;
        to = end;
      }
      if (to === from) {
        this.rotate();
        continue;
      }
      this.append(data.subarray(from, to));
      from = to;
    }
  }

  /** Logs a chunk of a stream's output; null: the stream ended. */
  write(stream: Stream, chunk: Uint8Array | null): void {
    const e = this.encoders[stream];
    this.writeRecords(chunk === null ? e.end() : e.encode(chunk));
  }

  close(): void {
    this.file.close();
  }
}
