/**
 * Containers on disk: data/containers/ID/{config.json,state.json,upper,work}
 * and runtime/ID/ for what a reboot may forget. Creation holds the store
 * lock so that two commands never hand out the same name.
 */
import { conflict, invalid, PtdError } from "../runtime/errors.ts";
import { readJson, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir, type StorePaths } from "../storage/paths.ts";
import { removeTrees } from "../storage/remove.ts";
import type { ContainerConfig, ContainerState } from "./config.ts";
import { createdState } from "./config.ts";
import { randomName, validName } from "./names.ts";
import { parseNetworkMode } from "../network/mode.ts";

/** A container name or id nothing matches. */
export class NoSuchContainer extends PtdError {
  constructor(ref: string) {
    super(
      "not-found",
      `no container with name or ID "${ref}" found: no such container`,
    );
  }
}

/** The container store of one user. */
export class ContainerStore {
  readonly root: string;
  constructor(readonly paths: StorePaths) {
    this.root = `${paths.data}/containers`;
  }

  /** Persistent directory of a container. */
  dir(id: string): string {
    return `${this.root}/${id}`;
  }
  /** Runtime directory of a container (spec, mount point, etc files). */
  runDir(id: string): string {
    return `${this.paths.runtime}/containers/${id}`;
  }
  /**
   * Where the monitor leaves the exit code of a --rm container, which
   * outlives its record (conmon's exit file): a waiting CLI that missed the
   * monitor's EXIT message still returns the right code.
   */
  exitFile(id: string): string {
    return `${this.paths.runtime}/exits/${id}`;
  }
  /** Leaves `code` in the container's exit file. */
  writeExitFile(id: string, code: number): void {
    ensureDir(`${this.paths.runtime}/exits`);
    Deno.writeTextFileSync(this.exitFile(id), `${code}\n`);
  }
  /** The container's log (k8s-file records), kept with its files. */
  logFile(id: string): string {
    return `${this.dir(id)}/ctr.log`;
  }

  /** Every container's config, oldest first. */
  list(): ContainerConfig[] {
    const out: ContainerConfig[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.root)];
    } catch {
      return out;
    }
    for (const e of entries) {
      // Dot directories are records being built or removed (sweep()).
      if (!e.isDirectory || e.name.startsWith(".")) continue;
      const c = readJson<ContainerConfig>(`${this.root}/${e.name}/config.json`);
      if (c) out.push(upgrade(c));
    }
    return out.sort((a, b) => a.created.localeCompare(b.created));
  }

  /** A container by name, full id or unique id prefix. */
  find(ref: string): ContainerConfig {
    const all = this.list();
    const exact = all.find((c) => c.name === ref || c.id === ref);
    if (exact) return exact;
    const hits = all.filter((c) => ref.length > 0 && c.id.startsWith(ref));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw conflict(`more than one result for container "${ref}"`);
    }
    throw new NoSuchContainer(ref);
  }

  /**
   * Stores a new container; fills in id and name, refuses a taken name.
   * `state` goes over the created state (a parent recorded from the start).
   */
  async create(
    config: Omit<ContainerConfig, "id" | "name" | "created">,
    name?: string,
    state: Partial<ContainerState> = {},
  ): Promise<ContainerConfig> {
    ensureDir(this.root);
    return await withLock(`${this.root}/.lock`, async () => {
      await this.sweep();
      const names = new Set(this.list().map((c) => c.name));
      if (name !== undefined) checkName(name, names);
      const id = randomId();
      const full: ContainerConfig = {
        ...config,
        id,
        name: name ?? randomName((n) => names.has(n)),
        created: new Date().toISOString(),
      };
      // Built under a temporary name and renamed into place: a kill at any
      // moment leaves a whole record, or a `.new-` directory for sweep().
      const dir = ensureDir(`${this.root}/${NEW}${id}`);
      ensureDir(`${dir}/upper`, 0o755);
      ensureDir(`${dir}/work`);
      writeJsonAtomic(`${dir}/state.json`, { ...createdState(), ...state });
      writeJsonAtomic(`${dir}/config.json`, full);
      Deno.renameSync(dir, this.dir(id));
      return full;
    });
  }

  /**
   * Removes what a killed create or remove left behind. Called holding the
   * store lock, which every create holds throughout: a `.new-` directory
   * then belongs to a dead process. A `.rm-` one may still be going away
   * under a live `rm`; removing what is left of it twice is harmless.
   */
  private async sweep(): Promise<void> {
    const left: string[] = [];
    for (const e of Deno.readDirSync(this.root)) {
      if (e.isDirectory && (e.name.startsWith(NEW) || e.name.startsWith(RM))) {
        left.push(`${this.root}/${e.name}`);
      }
    }
    if (left.length === 0) return;
    for (const dir of left) openWork(dir);
    await removeTrees(left).catch(() => {/* another sweep got there */});
  }

  state(id: string): ContainerState {
    return readJson<ContainerState>(`${this.dir(id)}/state.json`) ??
      createdState();
  }

  setState(id: string, state: ContainerState): void {
    writeJsonAtomic(`${this.dir(id)}/state.json`, state);
  }

  /**
   * Read-modify-write of the state under the container's lock, so that the
   * monitor and a `stop` or `ps` at the same moment never lose each other's
   * fields. Returns the new state.
   */
  async updateState(
    id: string,
    fn: (s: ContainerState) => ContainerState,
  ): Promise<ContainerState> {
    return await withLock(`${this.dir(id)}/.lock`, () => {
      const next = fn(this.state(id));
      this.setState(id, next);
      return next;
    });
  }

  /** Gives a container a new name, refusing a taken or invalid one. */
  async rename(id: string, name: string): Promise<void> {
    await this.updateConfig(id, (c) => {
      checkName(name, new Set(this.list().map((c) => c.name)));
      return { ...c, name };
    });
  }

  /**
   * Read-modify-write of a container's record under the store's lock
   * (rename, update's new limits). Returns the new record.
   */
  async updateConfig(
    id: string,
    fn: (c: ContainerConfig) => ContainerConfig,
  ): Promise<ContainerConfig> {
    return await withLock(`${this.root}/.lock`, () => {
      const c = readJson<ContainerConfig>(`${this.dir(id)}/config.json`);
      if (!c) throw new NoSuchContainer(id);
      const next = fn(c);
      writeJsonAtomic(`${this.dir(id)}/config.json`, next);
      return next;
    });
  }

  /** Removes every trace of a container. */
  async remove(id: string): Promise<void> {
    // Out of sight at once: a removal killed half-way leaves no record that
    // lists as a container without its config, only a `.rm-` directory.
    const trash = `${this.root}/${RM}${id}`;
    const trees = [this.runDir(id)];
    try {
      Deno.renameSync(this.dir(id), trash);
      openWork(trash);
      trees.push(trash);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await removeTrees(trees);
  }
}

/** Prefixes of a container directory being built, and being removed. */
const NEW = ".new-", RM = ".rm-";

/** overlay leaves work/work at mode 000: make it ours to delete. */
function openWork(dir: string) {
  try {
    Deno.chmodSync(`${dir}/work/work`, 0o700);
  } catch { /* not there */ }
}

/** A record from before `networkMode` was stored gets it from its text. */
function upgrade(c: ContainerConfig): ContainerConfig {
  c.host.networkMode ??= parseNetworkMode(c.host.network);
  return c;
}

function checkName(name: string, taken: Set<string>) {
  if (!validName(name)) {
    throw invalid(
      `invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  if (taken.has(name)) {
    throw conflict(
      `the container name "${name}" is already in use. You have to remove that container to be able to reuse that name`,
    );
  }
}

/** 64 random hex digits: container ids and anonymous volume names. */
export function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The directory of a vfs container's root copy, in its own directory (so
 * `rm` removes it); made on first use.
 */
export function vfsRoot(store: ContainerStore, c: ContainerConfig): string {
  return ensureDir(`${store.dir(c.id)}/rootfs`, 0o755);
}
