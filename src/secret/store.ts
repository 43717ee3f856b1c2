/**
 * Secrets, laid out as Podman's file driver keeps them under its root:
 * secrets/secrets.json (the records, by id, with the name and id indexes)
 * and secrets/filedriver/secretsdata.json (each secret's bytes, base64, by
 * id), both private to the user. Changes hold secrets.lock, so two
 * commands never give one name twice or lose each other's writes.
 */
import { PtdError } from "../runtime/errors.ts";
import { readJson, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir, type StorePaths } from "../storage/paths.ts";

/** One secret's record, with Podman's field names. */
export interface SecretRecord {
  name: string;
  id: string;
  labels?: Record<string, string>;
  createdAt: string;
  updatedAt?: string;
  driver: "file";
  driverOptions: Record<string, string>;
}

/** secrets.json. */
interface SecretsFile {
  secrets: Record<string, SecretRecord>;
  nameToID: Record<string, string>;
  idToName: Record<string, string>;
}

/** A name or id no secret has, in Podman's words. */
export class NoSuchSecret extends PtdError {
  constructor(ref: string) {
    super("not-found", `no secret with name or id "${ref}": no such secret`);
  }
}

/** Podman's rule for a secret's name. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9]$|^[a-zA-Z0-9]$/;

/** The secret store of one user. */
export class SecretStore {
  readonly root: string;
  readonly dataDir: string;
  constructor(paths: StorePaths) {
    this.root = `${paths.data}/secrets`;
    this.dataDir = `${this.root}/filedriver`;
  }

  private read(): SecretsFile {
    return readJson<SecretsFile>(`${this.root}/secrets.json`) ??
      { secrets: {}, nameToID: {}, idToName: {} };
  }

  private readData(): Record<string, string> {
    return readJson<Record<string, string>>(
      `${this.dataDir}/secretsdata.json`,
    ) ?? {};
  }

  /** Every secret, oldest first. */
  list(): SecretRecord[] {
    return Object.values(this.read().secrets)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** A secret by name, full id or unique id prefix; throws NoSuchSecret. */
  find(ref: string): SecretRecord {
    const f = this.read();
    const id = f.nameToID[ref] ?? ref;
    if (f.secrets[id]) return f.secrets[id];
    const hits = Object.keys(f.secrets).filter((k) => k.startsWith(ref));
    if (ref !== "" && hits.length === 1) return f.secrets[hits[0]];
    throw new NoSuchSecret(ref);
  }

  /** A secret's bytes. */
  data(ref: string): Uint8Array {
    const id = this.find(ref).id;
    const b64 = this.readData()[id];
    if (b64 === undefined) throw new NoSuchSecret(ref);
    return Uint8Array.fromBase64(b64);
  }

  /** Stores a new secret; returns its id. */
  create(
    name: string,
    data: Uint8Array,
    labels: Record<string, string>,
    driverOptions: Record<string, string> = {},
  ): Promise<string> {
    if (!NAME.test(name)) {
      throw new PtdError(
        "invalid",
        `only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]: ${name}: invalid secret name`,
      );
    }
    ensureDir(this.dataDir);
    return withLock(`${this.root}/secrets.lock`, () => {
      const f = this.read();
      if (f.nameToID[name]) {
        throw new PtdError("invalid", `${name}: secret name in use`);
      }
      const bytes = crypto.getRandomValues(new Uint8Array(13));
      const id = bytes.toHex().slice(0, 25);
      const values = this.readData();
      values[id] = data.toBase64();
      writeJsonAtomic(`${this.dataDir}/secretsdata.json`, values);
      const now = new Date().toISOString();
      f.secrets[id] = {
        name,
        id,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        createdAt: now,
        updatedAt: now,
        driver: "file",
        driverOptions: { path: this.dataDir, ...driverOptions },
      };
      f.nameToID[name] = id;
      f.idToName[id] = name;
      writeJsonAtomic(`${this.root}/secrets.json`, f);
      return id;
    });
  }

  /** Removes the secret `ref` names; returns its id. */
  remove(ref: string): Promise<string> {
    this.find(ref);
    return withLock(`${this.root}/secrets.lock`, () => {
      const { id, name } = this.find(ref);
      const f = this.read();
      delete f.secrets[id];
      delete f.nameToID[name];
      delete f.idToName[id];
      writeJsonAtomic(`${this.root}/secrets.json`, f);
      const values = this.readData();
      delete values[id];
      writeJsonAtomic(`${this.dataDir}/secretsdata.json`, values);
      return id;
    });
  }
}
