/**
 * Pods: one JSON record per pod in the store. A pod is its infra container
 * (catatonit, holding the network and IPC namespaces its containers join)
 * and the containers created with --pod; what it shares and its settings
 * live here, its containers say which pod they are in (HostConfig.pod).
 */
import { validName } from "../container/names.ts";
import { randomId } from "../container/store.ts";
import { conflict, invalid, notFound } from "../runtime/errors.ts";
import { readJsonDir, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir, type StorePaths } from "../storage/paths.ts";

/** A pod's record. */
export interface PodRecord {
  id: string;
  name: string;
  created: string;
  labels: Record<string, string>;
  hostname: string;
  /** The namespaces its containers share: net, ipc, uts. */
  share: string[];
  /** The infra container's id; absent with --infra=false. */
  infraId?: string;
}

/** The pods of one store. */
export class PodStore {
  readonly dir: string;

  constructor(readonly paths: StorePaths) {
    this.dir = `${paths.data}/pods`;
  }

  #path(id: string) {
    return `${this.dir}/${id}.json`;
  }

  /** Every pod, oldest first. */
  list(): PodRecord[] {
    return readJsonDir<PodRecord>(this.dir).sort((a, b) =>
      a.created.localeCompare(b.created)
    );
  }

  /** A pod by name, id or unique id prefix. */
  find(ref: string): PodRecord {
    const all = this.list();
    const hit = all.find((p) => p.name === ref || p.id === ref) ??
      (() => {
        const byId = all.filter((p) => p.id.startsWith(ref));
        if (byId.length > 1) {
          throw invalid(`more than one result for pod ID ${ref}`);
        }
        return byId[0];
      })();
    if (!hit) {
      throw notFound(`no pod with name or ID ${ref} found: no such pod`);
    }
    return hit;
  }

  /** Stores a new pod. */
  create(
    fields: Omit<PodRecord, "id" | "created">,
  ): Promise<PodRecord> {
    ensureDir(this.dir);
    return withLock(`${this.dir}/.lock`, () => {
      if (!validName(fields.name)) {
        throw invalid(
          `invalid pod name "${fields.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
        );
      }
      if (this.list().some((p) => p.name === fields.name)) {
        throw conflict(
          `adding pod to state: name "${fields.name}" is in use: pod already exists`,
        );
      }
      const r: PodRecord = {
        id: randomId(),
        created: new Date().toISOString(),
        ...fields,
      };
      writeJsonAtomic(this.#path(r.id), r);
      return r;
    });
  }

  /** Rewrites a pod's record. */
  update(r: PodRecord): void {
    writeJsonAtomic(this.#path(r.id), r);
  }

  /** Forgets a pod. */
  remove(id: string): void {
    try {
      Deno.removeSync(this.#path(id));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
