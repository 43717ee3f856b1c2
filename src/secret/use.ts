/**
 * `run --secret NAME[,type=mount|env,target=T,uid=N,gid=N,mode=OCTAL]`: a
 * secret as a file (by default /run/secrets/NAME, mode 0444, root's) or as
 * an environment variable. A mounted secret is copied into the container's
 * directory at create, as Podman copies it, so removing the secret later
 * does not break the container; an env secret is read at each start.
 */
import { invalid } from "../runtime/errors.ts";
import type { MountSpec } from "../runtime/spec.ts";
import { ensureDir } from "../storage/paths.ts";
import { SecretStore } from "./store.ts";

export { SecretStore };

/** A --secret of a container, as stored with it. */
export interface SecretUse {
  name: string;
  /** Filled in at create. */
  id: string;
  type: "mount" | "env";
  /** mount: a path (relative ones under /run/secrets); env: a name. */
  target: string;
  uid: number;
  gid: number;
  mode: number;
}

const parsing = (what: string) => invalid(`${what}: parsing secret`);

function number(value: string, base: number, key: string): number {
  const ok = base === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!ok.test(value)) throw parsing(`option ${key}=${value} invalid`);
  return parseInt(value, base);
}

/** Parses one --secret value, with Podman's errors. */
export function parseSecret(value: string): SecretUse {
  const [name, ...opts] = value.split(",");
  if (name === "") throw parsing("no secret name given");
  let type: SecretUse["type"] = "mount";
  let target: string | undefined;
  const owner: Partial<Record<"uid" | "gid" | "mode", number>> = {};
  for (const o of opts) {
    const [key, v = ""] = o.split(/=(.*)/s, 2);
    if (key === "type") {
      if (v !== "mount" && v !== "env") throw parsing(`type ${v} is invalid`);
      type = v;
    } else if (key === "target") target = v;
    else if (key === "uid" || key === "gid") owner[key] = number(v, 10, key);
    else if (key === "mode") owner.mode = number(v, 8, key);
    else throw parsing(`option ${o} invalid`);
  }
  if (type === "env" && Object.keys(owner).length > 0) {
    throw parsing(
      "UID, GID, Mode options cannot be set with secret type env",
    );
  }
  return {
    name,
    id: "",
    type,
    target: target || name,
    uid: owner.uid ?? 0,
    gid: owner.gid ?? 0,
    mode: owner.mode ?? 0o444,
  };
}

/** The secrets' ids, looked up at create (Podman's error for a missing one). */
export function resolveSecrets(
  store: SecretStore,
  uses: SecretUse[],
): SecretUse[] {
  return uses.map((u) => {
    try {
      return { ...u, id: store.find(u.name).id };
    } catch (e) {
      // Podman's words differ by type: an env secret is looked up later.
      const prefix = u.type === "env"
        ? "running container create option: "
        : "";
      throw invalid(`${prefix}${(e as Error).message}`);
    }
  });
}

/** Where a mounted secret's copy lives in the container's directory. */
const copyPath = (dir: string, i: number) => `${dir}/secrets/${i}`;

/** Copies the mounted secrets into the container's directory `dir`. */
export function copySecrets(
  store: SecretStore,
  dir: string,
  uses: SecretUse[],
) {
  ensureDir(`${dir}/secrets`);
  uses.forEach((u, i) => {
    if (u.type !== "mount") return;
    Deno.writeFileSync(copyPath(dir, i), store.data(u.id), { mode: 0o600 });
  });
}

/** A mounted secret's path inside the container. */
export function secretTarget(u: SecretUse): string {
  return u.target.startsWith("/") ? u.target : `/run/secrets/${u.target}`;
}

/** The env secrets' variables, read now (a start's, an exec's). */
export function secretEnv(store: SecretStore, uses: SecretUse[]): string[] {
  return uses.filter((u) => u.type === "env").map((u) =>
    `${u.target}=${new TextDecoder().decode(store.data(u.id))}`
  );
}

/**
 * What a start adds for the secrets: binds of the copies, the owners and
 * modes init gives them, and the env secrets' variables (read now).
 */
export function secretSpec(
  store: SecretStore,
  dir: string,
  uses: SecretUse[],
): {
  mounts: MountSpec[];
  owners: { path: string; uid: number; gid: number; mode: number }[];
  env: string[];
} {
  const out = {
    mounts: [] as MountSpec[],
    owners: [] as { path: string; uid: number; gid: number; mode: number }[],
    env: [] as string[],
  };
  out.env = secretEnv(store, uses);
  uses.forEach((u, i) => {
    if (u.type === "env") return;
    const path = secretTarget(u);
    out.mounts.push({
      type: "bind",
      source: copyPath(dir, i),
      destination: path,
      readonly: false,
    });
    out.owners.push({ path, uid: u.uid, gid: u.gid, mode: u.mode });
  });
  return out;
}
