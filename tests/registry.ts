/**
 * A real distribution registry (`docker-registry`, the Debian package) for
 * tests: started on 127.0.0.1 with a free port and its own storage dir,
 * plain http by default, or TLS with a throwaway CA and htpasswd Basic auth.
 * Also sandboxes whose registries.conf and auth.json are their own.
 */
import { Buffer } from "node:buffer";
import { createSign } from "node:crypto";
import { assertEquals } from "./assert.ts";
import { ptd, type Sandbox, sandbox } from "./helpers.ts";
import { podman } from "./podman.ts";

/** A running test registry. */
export interface TestRegistry {
  /** "127.0.0.1:PORT" — what image references name. */
  host: string;
  /** The registry's storage root (to tamper with blobs). */
  storage: string;
  /** PEM of the CA that signed the server certificate (TLS only). */
  caCert?: string;
  /** Stops the registry; the storage dir stays until `cleanup`. */
  stop(): Promise<void>;
  /** Stops it and removes its files. */
  cleanup(): Promise<void>;
}

/** Options of `startRegistry`. */
export interface RegistryOptions {
  /** Serve TLS with a certificate for 127.0.0.1 signed by a new CA. */
  tls?: boolean;
  /** Require these credentials (htpasswd, bcrypt). */
  user?: { username: string; password: string };
  /**
   * Require Bearer tokens from a token server run here, which grants the
   * asked-for access to these credentials and nothing to anyone else.
   */
  tokenUser?: { username: string; password: string };
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/**
 * A token server as distribution's token auth wants it: RS256 JWTs whose
 * x5c header carries a certificate the registry trusts (rootcertbundle).
 */
async function startTokenServer(
  dir: string,
  user: { username: string; password: string },
): Promise<{ realm: string; close(): Promise<void> }> {
  await selfSigned(dir, "token", "ptd token signer");
  const key = Deno.readTextFileSync(`${dir}/token.key`);
  const der = Deno.readTextFileSync(`${dir}/token.crt`)
    .replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (req) => {
    const url = new URL(req.url);
    const basic = `Basic ${btoa(`${user.username}:${user.password}`)}`;
    const given = req.headers.get("authorization");
    if (given !== null && given !== basic) {
      return new Response("bad credentials", { status: 401 });
    }
    const granted = given === basic;
    const access = (url.searchParams.get("scope") ?? "").split(" ")
      .filter(Boolean).map((scope) => {
        const [type, name, actions] = scope.split(":");
        return { type, name, actions: granted ? actions.split(",") : [] };
      });
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(
      JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [der] }),
    );
    const claims = b64url(JSON.stringify({
      iss: "ptd-test-issuer",
      sub: granted ? user.username : "",
      aud: url.searchParams.get("service"),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    }));
    const sig = createSign("RSA-SHA256").update(`${head}.${claims}`).sign(key);
    return Response.json({ token: `${head}.${claims}.${b64url(sig)}` });
  });
  return {
    realm: `http://127.0.0.1:${server.addr.port}/token`,
    close: () => server.shutdown(),
  };
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A self-signed certificate and its key: DIR/NAME.crt, DIR/NAME.key. */
async function selfSigned(dir: string, name: string, cn: string) {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    `${dir}/${name}.key`,
    "-out",
    `${dir}/${name}.crt`,
  ]);
}

/** Makes a CA and a server certificate for 127.0.0.1 in `dir`. */
async function makeCerts(dir: string): Promise<void> {
  await selfSigned(dir, "ca", "ptd test CA");
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    `${dir}/server.key`,
    "-out",
    `${dir}/server.csr`,
  ]);
  Deno.writeTextFileSync(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    `${dir}/ca.crt`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${dir}/ext.cnf`,
    "-out",
    `${dir}/server.crt`,
  ]);
}

async function waitForPort(port: number, child: Deno.ChildProcess) {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`docker-registry did not start on port ${port}`);
}

/** Starts a registry; call `cleanup()` when done. */
export async function startRegistry(
  opts: RegistryOptions = {},
): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "ptd-registry-" });
  const port = freePort();
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dir}/storage`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
  ];
  if (opts.tls) {
    await makeCerts(dir);
    lines.push(
      "  tls:",
      `    certificate: ${dir}/server.crt`,
      `    key: ${dir}/server.key`,
    );
  }
  if (opts.user) {
    const entry = await run("htpasswd", [
      "-Bbn",
      opts.user.username,
      opts.user.password,
    ]);
    Deno.writeTextFileSync(`${dir}/htpasswd`, entry);
    lines.push(
      "auth:",
      "  htpasswd:",
      "    realm: ptd-test",
      `    path: ${dir}/htpasswd`,
    );
  }
  const tokens = opts.tokenUser
    ? await startTokenServer(dir, opts.tokenUser)
    : undefined;
  if (tokens) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${tokens.realm}`,
      "    service: ptd-test-registry",
      "    issuer: ptd-test-issuer",
      `    rootcertbundle: ${dir}/token.crt`,
    );
  }
  Deno.writeTextFileSync(`${dir}/config.yml`, lines.join("\n") + "\n");
  const child = new Deno.Command("docker-registry", {
    args: ["serve", `${dir}/config.yml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill("SIGKILL");
    await child.status;
    await tokens?.close();
  };
  try {
    await waitForPort(port, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host: `127.0.0.1:${port}`,
    storage: `${dir}/storage`,
    caCert: opts.tls ? Deno.readTextFileSync(`${dir}/ca.crt`) : undefined,
    stop,
    async cleanup() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Path of a blob's data file in the registry's storage. */
export function registryBlobPath(reg: TestRegistry, digest: string): string {
  const hex = digest.replace(/^sha256:/, "");
  return `${reg.storage}/docker/registry/v2/blobs/sha256/${
    hex.slice(0, 2)
  }/${hex}/data`;
}

/**
 * A sandbox with its own registries.conf (marking `insecure` hosts plain
 * http), auth.json and config dir (for certs.d), so the user's never count.
 */
export async function sandboxFor(...insecure: string[]): Promise<Sandbox> {
  const sb = await sandbox();
  const conf = `${sb.dir}/registries.conf`;
  Deno.writeTextFileSync(
    conf,
    insecure.map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`)
      .join("\n"),
  );
  sb.env.CONTAINERS_REGISTRIES_CONF = conf;
  sb.env.REGISTRY_AUTH_FILE = `${sb.dir}/auth.json`;
  sb.env.XDG_CONFIG_HOME = `${sb.dir}/config`;
  return sb;
}

/** Runs ptd and asserts success; returns stdout. */
export async function ok(sb: Sandbox, args: string[]): Promise<string> {
  const r = await ptd(sb, args);
  assertEquals(r.code, 0, `ptd ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Names in a directory; none when it does not exist. */
export function files(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** `skopeo inspect` of `ref` on a plain-http registry: its JSON. */
export async function skopeoInspect(
  ref: string,
): Promise<{ Layers: string[]; Digest: string }> {
  const out = await new Deno.Command("skopeo", {
    args: ["inspect", "--tls-verify=false", `docker://${ref}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * Pushes the local image `name` (on a registry of `sb`'s registries.conf)
 * and checks what peers make of it: skopeo sees `layers` layers, and
 * podman runs it (with `command`, if given) with `stdout` as its output.
 */
export async function pushAndRunUnderPodman(
  sb: Sandbox,
  name: string,
  layers: number,
  stdout: string,
  command: string[] = [],
): Promise<void> {
  const push = await ptd(sb, ["push", name]);
  assertEquals(push.code, 0, push.stderr);
  assertEquals((await skopeoInspect(name)).Layers.length, layers);
  const env = { CONTAINERS_REGISTRIES_CONF: sb.env.CONTAINERS_REGISTRIES_CONF };
  const run = await podman(sb, ["run", "--rm", name, ...command], env);
  const dec = new TextDecoder();
  assertEquals(dec.decode(run.stdout), stdout, dec.decode(run.stderr));
}
