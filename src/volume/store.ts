/**
 * Volumes on disk: data/volumes/NAME/{volume.json,_data}. The record says
 * what `volume inspect` shows; _data is what containers mount. Creation and
 * removal hold the store lock, so two commands never create one name twice.
 */
import { emitEvent } from "../events/emit.ts";
import { conflict, PtdError } from "../runtime/errors.ts";
import { readJson, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir, type StorePaths } from "../storage/paths.ts";
import { removeTrees } from "../storage/remove.ts";

/** The record of one volume. */
export interface VolumeRecord {
  name: string;
  driver: "local";
  labels: Record<string, string>;
  created: string;
  /** The host directory containers mount. */
  mountpoint: string;
  /** Named by ptd for one container (-v /path, image VOLUME). */
  anonymous: boolean;
  /** The local driver's options (`-o type=tmpfs -o o=mode=700`). */
  options?: Record<string, string>;
}

/** A volume name nothing matches. */
export class NoSuchVolume extends PtdError {
  constructor(name: string) {
    super("not-found", `no volume with name "${name}" found: no such volume`);
  }
}

/** The volume store of one user. */
export class VolumeStore {
  readonly root: string;
  constructor(paths: StorePaths) {
    this.root = `${paths.data}/volumes`;
  }

  private recordPath(name: string): string {
    return `${this.root}/${name}/volume.json`;
  }

  /** A volume's record, or undefined. */
  get(name: string): VolumeRecord | undefined {
    // A name with "/" or ".." would point outside the store.
    if (name.includes("/") || name === "." || name === "..") return undefined;
    return readJson<VolumeRecord>(this.recordPath(name));
  }

  /** A volume's record; throws NoSuchVolume. */
  find(name: string): VolumeRecord {
    const v = this.get(name);
    if (!v) throw new NoSuchVolume(name);
    return v;
  }

  /** Every volume, by name. */
  list(): VolumeRecord[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.root)];
    } catch {
      return [];
    }
    return entries.filter((e) => e.isDirectory)
      .map((e) => this.get(e.name))
      .filter((v): v is VolumeRecord => v !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Creates a volume. With `reuse`, an existing one is returned as is (first
   * use by `run`); without, an existing name is an error (`volume create`).
   */
  async create(
    name: string,
    opts: {
      labels?: Record<string, string>;
      anonymous?: boolean;
      reuse?: boolean;
      options?: Record<string, string>;
    } = {},
  ): Promise<VolumeRecord> {
    ensureDir(this.root);
    let made = false;
    const v = await withLock(`${this.root}/.lock`, () => {
      const old = this.get(name);
      if (old && opts.reuse) return old;
      if (old) {
        throw conflict(
          `volume with name ${name} already exists: volume already exists`,
        );
      }
      const dir = ensureDir(`${this.root}/${name}`);
      const v: VolumeRecord = {
        name,
        driver: "local",
        labels: opts.labels ?? {},
        created: new Date().toISOString(),
        mountpoint: ensureDir(`${dir}/_data`, 0o755),
        anonymous: !!opts.anonymous,
        ...(opts.options ? { options: opts.options } : {}),
      };
      writeJsonAtomic(this.recordPath(name), v);
      made = true;
      return v;
    });
    if (made) await emitEvent({ type: "volume", action: "create", name });
    return v;
  }

  /**
   * Removes volumes and their data, which may hold files of subordinate ids.
   * The record goes first, so a half-removed volume is never listed.
   */
  async remove(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await withLock(`${this.root}/.lock`, async () => {
      for (const n of names) this.find(n);
      for (const n of names) Deno.removeSync(this.recordPath(n));
      await removeTrees(names.map((n) => `${this.root}/${n}`));
    });
    for (const name of names) {
      await emitEvent({ type: "volume", action: "remove", name });
    }
  }
}
