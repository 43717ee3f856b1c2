/**
 * Registry credentials as Podman keeps them: auth.json at
 * $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json, read also
 * from ~/.config/containers/auth.json and Docker's ~/.docker/config.json;
 * and the WWW-Authenticate challenges registries answer with.
 */
import { invalid } from "../runtime/errors.ts";
import { readJson, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir } from "../storage/paths.ts";

/** A user name and password (or identity token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  [other: string]: unknown;
}

function home(): string {
  return Deno.env.get("HOME") ?? "/";
}

/**
 * The auth.json that `ptd login` writes: `authFile` (--authfile) when
 * given, as Podman's.
 */
export function authFilePath(authFile?: string): string {
  const forced = authFile ?? Deno.env.get("REGISTRY_AUTH_FILE");
  if (forced) return forced;
  const run = Deno.env.get("XDG_RUNTIME_DIR");
  if (run) return `${run}/containers/auth.json`;
  const config = Deno.env.get("XDG_CONFIG_HOME") || `${home()}/.config`;
  return `${config}/containers/auth.json`;
}

/** Every file credentials are read from, most specific first. */
function authFilesToRead(authFile?: string): string[] {
  if (authFile !== undefined) return [authFile];
  const config = Deno.env.get("XDG_CONFIG_HOME") || `${home()}/.config`;
  const docker = Deno.env.get("DOCKER_CONFIG") || `${home()}/.docker`;
  const files = [authFilePath()];
  if (!Deno.env.get("REGISTRY_AUTH_FILE")) {
    files.push(`${config}/containers/auth.json`, `${docker}/config.json`);
  }
  return [...new Set(files)];
}

/** Docker keeps Docker Hub under its old v1 URL. */
function authKeys(host: string): string[] {
  return host === "docker.io"
    ? ["docker.io", "https://index.docker.io/v1/", "index.docker.io"]
    : [host, `https://${host}`, `http://${host}`];
}

function decodeAuth(auth: string): Credentials | undefined {
  let text: string;
  try {
    text = atob(auth);
  } catch {
    return undefined;
  }
  const i = text.indexOf(":");
  if (i < 0) return undefined;
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/**
 * An --authfile must exist for every command but `login` (Podman's check,
 * in its words; `prefix` is logout's "checking authfile: ").
 */
export function checkAuthFile(authFile: string | undefined, prefix = ""): void {
  if (authFile === undefined) return;
  try {
    Deno.statSync(authFile);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw invalid(`${prefix}stat ${authFile}: no such file or directory`);
  }
}

/**
 * Stored credentials for a registry host, if any file has them; only
 * `authFile` is read when given.
 */
export function credentialsFor(
  host: string,
  authFile?: string,
): Credentials | undefined {
  for (const file of authFilesToRead(authFile)) {
    let doc: AuthFile | undefined;
    try {
      doc = readJson<AuthFile>(file);
    } catch {
      continue;
    }
    for (const key of authKeys(host)) {
      const entry = doc?.auths?.[key];
      const creds = entry?.auth ? decodeAuth(entry.auth) : undefined;
      if (creds) return creds;
    }
  }
  return undefined;
}

async function updateAuthFile(
  fn: (doc: AuthFile) => boolean,
  authFile?: string,
): Promise<boolean> {
  const path = authFilePath(authFile);
  ensureDir(path.slice(0, path.lastIndexOf("/")));
  return await withLock(`${path}.lock`, () => {
    const doc = readJson<AuthFile>(path) ?? {};
    doc.auths ??= {};
    const changed = fn(doc);
    if (changed) writeJsonAtomic(path, doc);
    return changed;
  });
}

/** Records credentials for `host` in auth.json (or `authFile`). */
export async function saveCredentials(
  host: string,
  creds: Credentials,
  authFile?: string,
): Promise<void> {
  await updateAuthFile((doc) => {
    doc.auths![host] = {
      auth: btoa(`${creds.username}:${creds.password}`),
    };
    return true;
  }, authFile);
}

/**
 * Forgets `host` (or every registry when undefined) in auth.json (or
 * `authFile`); false if none stored.
 */
export async function removeCredentials(
  host?: string,
  authFile?: string,
): Promise<boolean> {
  return await updateAuthFile((doc) => {
    if (host === undefined) {
      const had = Object.keys(doc.auths!).length > 0;
      doc.auths = {};
      return had;
    }
    const keys = authKeys(host).filter((k) => k in doc.auths!);
    for (const k of keys) delete doc.auths![k];
    return keys.length > 0;
  }, authFile);
}

/** One parsed WWW-Authenticate challenge. */
export interface Challenge {
  /** Lower-cased scheme: "bearer" or "basic". */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): `Scheme k="v", k2=v2`.
 * Quoted values may hold commas and escaped quotes.
 */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) throw new Error(`malformed WWW-Authenticate header: ${header}`);
  const params: Record<string, string> = {};
  const re = /\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/gy;
  const rest = m[2];
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest))) {
    params[p[1].toLowerCase()] = p[2] !== undefined
      ? p[2].replace(/\\(.)/g, "$1")
      : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}
