/**
 * Crash-safe JSON files. A write goes to a temporary file in the same
 * directory, is fsynced and renamed over the target, so readers and a kill -9
 * at any moment see either the old or the new content, never half of one.
 */

/** Writes `value` as JSON to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const data = new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
  const f = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    let off = 0;
    while (off < data.length) off += f.writeSync(data.subarray(off));
    f.syncSync();
  } catch (e) {
    f.close();
    Deno.removeSync(tmp);
    throw e;
  }
  f.close();
  Deno.renameSync(tmp, path);
}

/** Reads a JSON file, or returns undefined when it does not exist. */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Every `*.json` record in `dir` (none when it does not exist). */
export function readJsonDir<T>(dir: string): T[] {
  const out: T[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.endsWith(".json")) continue;
      const r = readJson<T>(`${dir}/${e.name}`);
      if (r) out.push(r);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/**
 * Runs `fn` holding a lock on `lockPath` (created if missing), so that
 * read-modify-write sequences of concurrent ptd commands serialize. A shared
 * lock (`exclusive` false) only keeps exclusive holders out.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => T | Promise<T>,
  exclusive = true,
): Promise<T> {
  const f = await Deno.open(lockPath, {
    create: true,
    write: true,
    mode: 0o600,
  });
  try {
    await f.lock(exclusive);
    return await fn();
  } finally {
    f.close();
  }
}
