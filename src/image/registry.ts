/**
 * A client of the OCI distribution API (what docker-registry, Docker Hub and
 * quay.io speak): manifests, blobs, uploads. Authentication follows the
 * registry's 401 challenge: Bearer (a token from the realm, with Basic
 * credentials if the user has some) or Basic. TLS trusts the system roots
 * plus the registry's certs.d CA; an insecure registry may also be plain http.
 */
import { type Credentials, credentialsFor, parseChallenge } from "./auth.ts";
import { apiHost, caCertsFor, type Endpoint } from "./reference.ts";
import { MANIFEST_ACCEPT, MediaType } from "./oci.ts";
import { digestOf } from "../storage/blobs.ts";

/** How to reach registries: TLS and credential overrides from the CLI. */
export interface RegistryOptions {
  /** false: like an `insecure` registry (http allowed). */
  tlsVerify?: boolean;
  /** A directory of *.crt CA files replacing the certs.d lookup. */
  certDir?: string;
  /** Credentials to use instead of the auth files. */
  credentials?: Credentials;
  /** The one auth file to read (--authfile). */
  authFile?: string;
}

/** A registry error with the HTTP status, for callers that branch on 404. */
export class RegistryError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** The registry could not be reached at all (connection, TLS, DNS). */
export class Unreachable extends Error {}

/** An error and its causes in one line ("fetch failed" alone says nothing). */
function causes(e: unknown): string {
  const parts: string[] = [];
  for (let c = e; c !== undefined && parts.length < 4;) {
    parts.push(c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join(": ").replace(/\s+/g, " ");
}

/** A fetched manifest: its exact bytes (digests are over them) and type. */
export interface FetchedManifest {
  bytes: Uint8Array<ArrayBuffer>;
  mediaType: string;
  digest: string;
}

function basicHeader(c: Credentials): string {
  return `Basic ${btoa(`${c.username}:${c.password}`)}`;
}

/** Short text of a registry's error body: its errors[0].message if JSON. */
async function errorText(res: Response): Promise<string> {
  const body = await res.text().catch(() => "");
  try {
    const doc = JSON.parse(body) as { errors?: { message?: string }[] };
    const msg = doc.errors?.[0]?.message;
    if (msg) return msg;
  } catch { /* not JSON */ }
  return body.trim().split("\n")[0].slice(0, 200) || res.statusText;
}

/**
 * A manifest's media type: its own mediaType field, else (OCI lets it be
 * left out) the registry's Content-Type, else what its shape says.
 */
export function manifestType(bytes: Uint8Array, header?: string): string {
  let doc: { mediaType?: string; manifests?: unknown; config?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("manifest is not valid JSON");
  }
  if (doc.mediaType) return doc.mediaType;
  if (header && header !== "application/json") return header;
  if (doc.manifests) return MediaType.ociIndex;
  return doc.config ? MediaType.ociManifest : header ?? "";
}

/** A session with one repository at one endpoint. */
export class RegistryClient {
  readonly host: string;
  readonly repository: string;
  #scheme: "https" | "http" | undefined;
  #insecure: boolean;
  #client: Deno.HttpClient | undefined;
  #auth: string | undefined;
  #creds: Credentials | undefined;
  #actions: string;

  /** `push` asks tokens for pull and push rights on the repository. */
  constructor(
    endpoint: Endpoint,
    opts: RegistryOptions = {},
    push = false,
  ) {
    this.host = endpoint.host;
    this.repository = endpoint.repository;
    this.#insecure = endpoint.insecure || opts.tlsVerify === false;
    const ca = caCertsFor(endpoint.host, opts.certDir);
    this.#client = ca.length > 0
      ? Deno.createHttpClient({ caCerts: ca })
      : undefined;
    this.#creds = opts.credentials ??
      credentialsFor(endpoint.host, opts.authFile);
    this.#actions = push ? "pull,push" : "pull";
  }

  /** Releases the TLS client. */
  close(): void {
    this.#client?.close();
  }

  /** Base URL of the API, settling https vs http for insecure registries. */
  async #base(): Promise<string> {
    if (!this.#scheme) {
      this.#scheme = "https";
      if (this.#insecure) {
        try {
          const res = await fetch(`https://${apiHost(this.host)}/v2/`, {
            client: this.#client,
            signal: AbortSignal.timeout(10_000),
          });
          await res.body?.cancel();
        } catch {
          this.#scheme = "http";
        }
      }
    }
    return `${this.#scheme}://${apiHost(this.host)}/v2/`;
  }

  /** Sends a request, answering one auth challenge if the registry asks. */
  async request(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: BodyInit } = {},
  ): Promise<Response> {
    const url = path.startsWith("http") ? path : `${await this.#base()}${path}`;
    const send = () => {
      const headers = new Headers(init.headers);
      if (this.#auth) headers.set("Authorization", this.#auth);
      return fetch(url, {
        method,
        headers,
        body: init.body,
        client: this.#client,
      }).catch((e) => {
        throw new Unreachable(`${method} ${url}: ${causes(e)}`);
      });
    };
    let res = await send();
    if (res.status === 401 && !(init.body instanceof ReadableStream)) {
      const header = res.headers.get("www-authenticate");
      await res.body?.cancel();
      if (!header) throw new RegistryError(`${url}: unauthorized`, 401);
      this.#auth = await this.#authorize(header);
      res = await send();
    }
    if (res.status === 401) {
      await res.body?.cancel();
      throw this.#unauthorized();
    }
    return res;
  }

  #unauthorized(): RegistryError {
    return new RegistryError(
      `authentication required for ${this.host}: ${
        this.#creds ? "credentials refused" : "no credentials (ptd login)"
      }`,
      401,
    );
  }

  async #authorize(header: string): Promise<string> {
    const ch = parseChallenge(header);
    if (ch.scheme === "basic") {
      if (!this.#creds) throw this.#unauthorized();
      return basicHeader(this.#creds);
    }
    if (ch.scheme !== "bearer" || !ch.params.realm) {
      throw new Error(`${this.host}: unsupported auth challenge ${header}`);
    }
    const url = new URL(ch.params.realm);
    if (ch.params.service) url.searchParams.set("service", ch.params.service);
    // A client of no repository reads the catalog (search).
    url.searchParams.set(
      "scope",
      this.repository
        ? `repository:${this.repository}:${this.#actions}`
        : "registry:catalog:*",
    );
    const headers: Record<string, string> = {};
    if (this.#creds) headers.Authorization = basicHeader(this.#creds);
    const res = await fetch(url, { headers, client: this.#client });
    if (res.status === 401) {
      await res.body?.cancel();
      throw this.#unauthorized();
    }
    if (!res.ok) {
      throw new RegistryError(
        `${this.host}: token request failed: ${res.status} ${await errorText(
          res,
        )}`,
        res.status,
      );
    }
    const doc = await res.json() as { token?: string; access_token?: string };
    const token = doc.token ?? doc.access_token;
    if (!token) throw new Error(`${this.host}: token response has no token`);
    return `Bearer ${token}`;
  }

  /** Throws the registry's error for a non-2xx response. */
  async #check(res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    throw new RegistryError(
      `${what}: ${res.status} ${await errorText(res)}`,
      res.status,
    );
  }

  /** The repositories the registry lists (/v2/_catalog), if it does. */
  async catalog(): Promise<string[]> {
    const res = await this.#check(
      await this.request("GET", "_catalog?n=1000"),
      `${this.host} does not list its repositories`,
    );
    const doc = await res.json() as { repositories?: string[] };
    return doc.repositories ?? [];
  }

  /** The tags of the client's repository. */
  async tags(): Promise<string[]> {
    const res = await this.#check(
      await this.request("GET", `${this.repository}/tags/list`),
      `listing the tags of ${this.host}/${this.repository}`,
    );
    const doc = await res.json() as { tags?: string[] | null };
    return doc.tags ?? [];
  }

  /** Checks that the registry answers and the credentials work (login). */
  async ping(): Promise<void> {
    await this.#check(await this.request("GET", ""), `${this.host}`);
  }

  /**
   * Fetches a manifest by tag or digest. A digest reference is verified
   * against the bytes; a tag's digest is computed from them.
   */
  async manifest(tagOrDigest: string): Promise<FetchedManifest> {
    const what = `${this.host}/${this.repository}:${tagOrDigest}`;
    const res = await this.#check(
      await this.request("GET", `${this.repository}/manifests/${tagOrDigest}`, {
        headers: { Accept: MANIFEST_ACCEPT },
      }),
      `reading manifest ${what}`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = digestOf(bytes);
    if (tagOrDigest.startsWith("sha256:") && digest !== tagOrDigest) {
      throw new Error(
        `manifest ${what}: digest mismatch: got ${digest}`,
      );
    }
    const header = res.headers.get("content-type")?.split(";")[0].trim();
    return { bytes, mediaType: manifestType(bytes, header), digest };
  }

  /** Opens a blob for download; the caller verifies what it reads. */
  async blob(digest: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#check(
      await this.request("GET", `${this.repository}/blobs/${digest}`),
      `fetching blob ${digest}`,
    );
    if (!res.body) throw new Error(`fetching blob ${digest}: empty body`);
    return res.body;
  }

  /** True when the repository already holds the blob. */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(
      "HEAD",
      `${this.repository}/blobs/${digest}`,
    );
    await res.body?.cancel();
    if (res.status === 404) return false;
    await this.#check(res, `checking blob ${digest}`);
    return true;
  }

  /** Uploads a blob in one request (POST to start, PUT with the content). */
  async uploadBlob(digest: string, file: string): Promise<void> {
    const start = await this.#check(
      await this.request("POST", `${this.repository}/blobs/uploads/`),
      `starting upload of ${digest}`,
    );
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (!location) throw new Error(`upload of ${digest}: no Location`);
    const url = new URL(location, await this.#base());
    url.searchParams.set("digest", digest);
    const data = await Deno.open(file);
    const size = (await data.stat()).size;
    const res = await this.request("PUT", url.href, {
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(size),
      },
      body: data.readable,
    });
    await this.#check(res, `uploading blob ${digest}`);
    await res.body?.cancel();
  }

  /** Stores a manifest under a tag (or digest). */
  async putManifest(
    ref: string,
    mediaType: string,
    bytes: Uint8Array<ArrayBuffer>,
  ): Promise<void> {
    const res = await this.request(
      "PUT",
      `${this.repository}/manifests/${ref}`,
      { headers: { "Content-Type": mediaType }, body: bytes },
    );
    await this.#check(res, `writing manifest ${ref}`);
    await res.body?.cancel();
  }
}
