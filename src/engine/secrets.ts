/**
 * The engine's secrets: create (file driver only, as ptd stores them),
 * list with Podman's filters, inspect in Podman's shape, rm, exists.
 */
import { invalid, isKind } from "../runtime/errors.ts";
import { goMap } from "../runtime/gomap.ts";
import { type SecretRecord, SecretStore } from "../secret/store.ts";
import type { Engine } from "./engine.ts";
import { compileFilters, FORM_ERROR, parseFilters } from "./filters.ts";

/** A secret as Podman's `secret inspect` shows it. */
export interface SecretInspect {
  ID: string;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name: string;
    Driver: { Name: string; Options: Record<string, string> };
    Labels: Record<string, string>;
  };
}

/** What `secret create` is told besides the name and the bytes. */
export interface SecretCreateOptions {
  /** Only "file" (the default) is ptd's. */
  driver?: string;
  driverOptions?: Record<string, string>;
  labels?: Record<string, string>;
}

/** Stores a new secret; returns its id. */
export function createSecret(
  e: Engine,
  name: string,
  data: Uint8Array,
  opts: SecretCreateOptions = {},
): Promise<string> {
  if ((opts.driver ?? "file") !== "file") throw invalid("invalid driver");
  return e.store(SecretStore).create(
    name,
    data,
    opts.labels ?? {},
    opts.driverOptions ?? {},
  );
}

/** A record in Podman's inspect shape. */
export function inspectShape(r: SecretRecord): SecretInspect {
  return {
    ID: r.id,
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt ?? r.createdAt,
    Spec: {
      Name: r.name,
      Driver: { Name: r.driver, Options: goMap(r.driverOptions) },
      Labels: goMap(r.labels ?? {}),
    },
  };
}

/** The secrets `filters` select (name=, id=: regular expressions). */
export function listSecrets(e: Engine, filters: string[] = []): SecretRecord[] {
  const parsed = parseFilters(filters, {
    keys: ["name", "id"],
    malformed: FORM_ERROR,
    unknown: (key) => `invalid filter "${key}"`,
  });
  const matching = (field: "name" | "id") => (values: string[]) => {
    const res = values.map((v) => new RegExp(v));
    return (r: SecretRecord) => res.some((re) => re.test(r[field]));
  };
  const keep = compileFilters(parsed, {
    name: matching("name"),
    id: matching("id"),
  });
  return e.store(SecretStore).list().filter(keep);
}

/**
 * The inspect documents of `refs`, and the error of the first that is
 * missing (Podman prints the others, then fails).
 */
export function inspectSecrets(
  e: Engine,
  refs: string[],
): { docs: SecretInspect[]; error?: Error } {
  const docs: SecretInspect[] = [];
  let error: Error | undefined;
  for (const ref of refs) {
    try {
      docs.push(inspectShape(e.store(SecretStore).find(ref)));
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
      error ??= invalid(`inspecting secret: ${err.message}`);
    }
  }
  return { docs, error };
}

/** Removes the secrets `refs` name (every one with `all`); returns ids. */
export async function removeSecrets(
  e: Engine,
  refs: string[],
  all = false,
): Promise<string[]> {
  const store = e.store(SecretStore);
  const ids: string[] = [];
  for (const ref of all ? store.list().map((r) => r.id) : refs) {
    ids.push(await store.remove(ref));
  }
  return ids;
}

/** Whether a secret of that name or id exists. */
export function secretExists(e: Engine, ref: string): boolean {
  try {
    e.store(SecretStore).find(ref);
    return true;
  } catch (err) {
    if (isKind(err, "not-found")) return false;
    throw err;
  }
}
