/**
 * The engine's registry side: pull, push, login and logout. A front end
 * passes progress callbacks and, for login, the credentials it obtained
 * (the CLI asks on the terminal); the engine checks and stores them.
 */
import {
  authFilePath,
  checkAuthFile,
  type Credentials,
  credentialsFor,
  removeCredentials,
  saveCredentials,
} from "../image/auth.ts";
import { pullImage, type PullOptions } from "../image/pull.ts";
import { pushImage, type PushOptions } from "../image/push.ts";
import {
  endpoints,
  loadRegistriesConf,
  parseName,
  qualify,
  resolveName,
} from "../image/reference.ts";
import { RegistryClient, type RegistryOptions } from "../image/registry.ts";
import {
  repositoryTags,
  type SearchOptions,
  searchRegistries,
  type SearchResult,
} from "../image/search.ts";
import { type ImageRecord, ImageStore } from "../image/store.ts";
import { invalid, notFound } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { emitEvent } from "../events/emit.ts";

/** Pulls `name` into the store. */
export async function pull(
  e: Engine,
  name: string,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  checkAuthFile(opts.authFile);
  const img = await pullImage(e.store(ImageStore), name, opts);
  await emitEvent({ type: "image", action: "pull", name });
  return img;
}

/**
 * `pull --all-tags`: every tag of the repository `name` names (a tag in
 * it is ignored, as Podman does), in the order the registry lists them.
 */
export async function pullAllTags(
  e: Engine,
  name: string,
  opts: PullOptions = {},
): Promise<ImageRecord[]> {
  checkAuthFile(opts.authFile);
  const n = parseName(name);
  if (n.digest) {
    throw invalid(`${name}: a digest cannot be used with --all-tags`);
  }
  const [ref] = resolveName(name, loadRegistriesConf());
  const out: ImageRecord[] = [];
  for (const tag of await repositoryTags(ref.registry, ref.repository, opts)) {
    out.push(await pull(e, `${ref.registry}/${ref.repository}:${tag}`, opts));
  }
  return out;
}

/**
 * Pushes local image `name` to `dest` (default: its own name); returns the
 * pushed manifest's digest.
 */
export async function push(
  e: Engine,
  name: string,
  dest: string | undefined,
  opts: PushOptions = {},
): Promise<string> {
  checkAuthFile(opts.authFile);
  const store = e.store(ImageStore);
  const digest = await pushImage(store, name, dest, opts);
  await emitEvent({
    type: "image",
    action: "push",
    id: store.find(name).id,
    name: dest ?? name,
  });
  return digest;
}

/** A registry host from what login/logout were given (a host or an image). */
export function registryHost(arg: string): string {
  const host = arg.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host.includes(".") || host.includes(":") || host === "localhost"
    ? host
    : parseName(arg).registry ?? "docker.io";
}

/**
 * Checks `creds` against the registry `host` (as registries.conf maps it)
 * and stores them for later pulls and pushes; returns the auth file they
 * went to (`login -v` names it).
 */
export async function login(
  host: string,
  creds: Credentials,
  opts: Omit<RegistryOptions, "credentials"> = {},
): Promise<string> {
  await checkLogin(host, creds, opts);
  await saveCredentials(host, creds, opts.authFile);
  return authFilePath(opts.authFile);
}

/**
 * Checks `creds` against the registry `host` only (the REST API's auth:
 * the client keeps them, and sends them with each pull and push).
 */
export async function checkLogin(
  host: string,
  creds: Credentials,
  opts: Omit<RegistryOptions, "credentials"> = {},
): Promise<void> {
  const ref = qualify({ repository: "ptd-login" }, host);
  const [ep] = endpoints(ref, loadRegistriesConf(), true);
  const client = new RegistryClient(ep, { ...opts, credentials: creds });
  try {
    await client.ping();
  } finally {
    client.close();
  }
}

/**
 * Forgets the credentials for `host`, or for every registry, in the user's
 * auth.json or `authFile`.
 */
export async function logout(host?: string, authFile?: string): Promise<void> {
  checkAuthFile(authFile, "checking authfile: ");
  // Logging out of every registry succeeds with none to forget.
  const removed = await removeCredentials(host, authFile);
  if (!removed && host !== undefined) throw notFound(`not logged into ${host}`);
}

/** `login --get-login`: the user name stored for `host`. */
export function loggedInUser(host: string, authFile?: string): string {
  checkAuthFile(authFile, "checking authfile: ");
  const creds = credentialsFor(host, authFile);
  if (!creds) throw notFound(`not logged into ${host}`);
  return creds.username;
}

/** `search`: repositories (or with `listTags`, tags) matching `term`. */
export async function search(
  term: string,
  opts: SearchOptions = {},
): Promise<SearchResult[]> {
  checkAuthFile(opts.authFile);
  return await searchRegistries(term, opts);
}
