/**
 * Creating a container from run/create options: the library call behind
 * `ptd run` and `ptd create`, usable without the CLI.
 */
import { ownClaim } from "./liveness.ts";
import { trace } from "../runtime/trace.ts";
import { emitContainerEvent } from "../events/emit.ts";
import { invalid } from "../runtime/errors.ts";
import { normalizeCap } from "../runtime/caps.ts";
import { DEFAULT_SECCOMP_PROFILE } from "../security/seccomp.ts";
import { containerSeccomp } from "./confine.ts";
import type { VolumeStore } from "../volume/store.ts";
import { ensureVolumes } from "../volume/ops.ts";
import { fillFromImage } from "../volume/copyup.ts";
import { storeDriver } from "../storage/driver.ts";
import type { RootSource } from "../storage/root_source.ts";
import type { ContainerConfig, ContainerMount, HostConfig } from "./config.ts";
import { checkHostPaths, planMounts } from "./mounts.ts";
import { resolveNetwork } from "./network.ts";
import { initBinary } from "./spec.ts";
import { checkLogDriver, checkLogPath } from "./log_driver.ts";
import { lazy } from "../runtime/lazy.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";
import {
  CONTAINER_ENV,
  DEFAULT_ENV,
  hostEnv,
  mergeEnv,
  PATH_ENV,
} from "./env.ts";
import { zoneFile } from "./timezone.ts";
import { checkSysctls } from "./sysctls.ts";
import {
  checkNsTarget,
  checkUserns,
  ipcTarget,
  reownMaps,
} from "./namespaces.ts";
import { KEEP_GROUPS } from "../runtime/spec.ts";
import { userMaps } from "../runtime/create.ts";
import { hostUserEntries, keepIdEntries } from "./users.ts";

/** What the user asked for with `run`/`create` flags. */
export interface CreateOptions {
  name?: string;
  command: string[];
  /** undefined: the image's; [] (from --entrypoint "") clears it. */
  entrypoint?: string[];
  env: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  labels: Record<string, string>;
  host: HostConfig;
  /** Parsed -v, --mount and --tmpfs flags (see mounts.ts). */
  mounts?: ContainerMount[];
  /** With --read-only: tmpfs on /tmp, /var/tmp, /run (Podman's default: true). */
  readOnlyTmpfs?: boolean;
  /** Environment every container starts from (default: TERM=xterm). */
  defaultEnv?: string[];
  /** --env-host: the caller's whole environment, under the image's. */
  envHost?: boolean;
  /** --hostuser: host users to add to the container's /etc/passwd. */
  hostUsers?: string[];
  /** -P: publish every port the image exposes on a free host port. */
  publishAll?: boolean;
  /** The command line that created it (generate systemd --new reruns it). */
  createCommand?: string[];
  /** --unsetenv: default variables (ptd's, the image's) left out. */
  unsetEnv?: string[];
  /** --unsetenv-all: none of the default variables. */
  unsetEnvAll?: boolean;
  /** --image-volume: the image's volumes as volumes (bind), tmpfs, or none. */
  imageVolume?: "bind" | "tmpfs" | "ignore";
  /** --volumes-from: CONTAINER[:ro|rw|z], whose volumes and binds it gets. */
  volumesFrom?: string[];
  /** --http-proxy: the caller's proxy variables, over the image's. */
  proxyEnv?: string[];
  /** --env-merge: KEY=VALUE over the defaults and the image's, expanded. */
  envMerge?: string[];
  /**
   * Created to be run by this process (`run`): it is recorded as the
   * container's parent from the start, so that its death before the
   * container's host claims it leaves a --rm container to be removed.
   */
  parent?: boolean;
  /** A build's RUN step container (ContainerConfig.build). */
  build?: boolean;
}

/** A --rootfs directory as a root source: absolute, existing, used read-only. */
export function rootfsSource(dir: string): RootSource {
  let real: string;
  try {
    real = Deno.realPathSync(dir);
  } catch {
    throw invalid(`--rootfs ${dir}: no such file or directory`);
  }
  if (!Deno.statSync(real).isDirectory) {
    throw invalid(`--rootfs ${dir}: not a directory`);
  }
  return {
    image: real,
    imageId: "",
    layers: [real],
    rootfs: true,
    entrypoint: [],
    cmd: [],
    env: [],
    workdir: "/",
    user: "",
  };
}

/** The default variables `env` less those --unsetenv(-all) names. */
function withoutUnset(env: string[], opts: CreateOptions): string[] {
  if (opts.unsetEnvAll) return [];
  const unset = new Set(opts.unsetEnv ?? []);
  return env.filter((v) => !unset.has(v.split("=")[0]));
}

/** --requires names containers that must exist (Podman's error otherwise). */
function checkRequired(store: ContainerStore, refs: string[] = []) {
  for (const ref of refs) {
    try {
      store.find(ref);
    } catch (e) {
      throw invalid(
        `"${ref}" is not a valid container, cannot be used as a dependency: ${
          (e as Error).message
        }`,
      );
    }
  }
}

/**
 * --volumes-from: the volumes and binds of other containers, read-only or
 * not as they are (or as `:ro`/`:rw` say); a destination of the
 * container's own mounts keeps its own.
 */
function volumesFrom(
  store: ContainerStore,
  opts: CreateOptions,
  own: ContainerMount[],
): ContainerMount[] {
  const taken = new Set(own.map((m) => m.destination));
  const out: ContainerMount[] = [];
  for (const spec of opts.volumesFrom ?? []) {
    const [ref, options = ""] = spec.split(":", 2);
    let readonly: boolean | undefined;
    for (const o of options.split(",").filter(Boolean)) {
      if (o === "ro" || o === "rw") readonly = o === "ro";
      else if (o !== "z") {
        throw invalid(
          `invalid option "${o}" specified - volumes from another container can only use z,ro,rw options`,
        );
      }
    }
    let other;
    try {
      other = store.find(ref);
    } catch (e) {
      throw invalid(
        `looking up container "${ref}" for volumes-from: ${
          (e as Error).message
        }`,
      );
    }
    for (const m of other.mounts ?? []) {
      const shared = m.type === "bind" || m.type === "volume";
      if (!shared || taken.has(m.destination)) continue;
      taken.add(m.destination);
      // Its anonymous volumes stay its own: rm -v of this one keeps them.
      out.push({
        ...m,
        readonly: readonly ?? m.readonly,
        anonymous: undefined,
      });
    }
  }
  return out;
}

/**
 * --ipc, --pid, --uts container:NAME need that container, and so on; the
 * code for --pid and --uts loads only for them.
 */
async function checkNamespaces(store: ContainerStore, opts: CreateOptions) {
  const target = ipcTarget(opts.host.ipc);
  if (target !== undefined) checkNsTarget(store, "ipc", target);
  if (opts.host.pid || opts.host.uts) {
    const { checkSharedNamespaces } = await lazy<
      typeof import("./shared_ns.ts")
    >("src/container/shared_ns.ts");
    checkSharedNamespaces(store, opts.host, opts.hostname);
  }
}

/** Checks flags whose mistakes must fail before anything is created. */
async function validate(opts: CreateOptions) {
  for (const c of [...opts.host.capAdd, ...opts.host.capDrop]) normalizeCap(c);
  if (opts.host.init) initBinary(opts.host.initPath);
  checkLogDriver(opts.host.logDriver);
  checkLogPath(opts.host.logPath);
  if (opts.host.tz) zoneFile(opts.host.tz);
  checkSysctls(opts.host);
  if (opts.host.noHosts && (opts.host.addHosts ?? []).length > 0) {
    throw invalid("--no-hosts and --add-host cannot be set together");
  }
  if (opts.host.detachKeys !== undefined) {
    const { parseDetachKeys } = await lazy<typeof import("./detach_keys.ts")>(
      "src/container/detach_keys.ts",
    );
    parseDetachKeys(opts.host.detachKeys);
  }
  const groups = opts.host.groupAdd;
  if (groups.includes(KEEP_GROUPS) && groups.length > 1) {
    throw invalid(
      "the '--group-add keep-groups' option is not allowed with any other --group-add options",
    );
  }
  if (opts.host.ipc === "host") {
    try {
      Deno.statSync("/dev/mqueue");
    } catch {
      throw invalid("statfs /dev/mqueue: no such file or directory");
    }
  }
  if (opts.workdir !== undefined && !opts.workdir.startsWith("/")) {
    throw invalid(
      `invalid working directory ${opts.workdir}: must be an absolute path`,
    );
  }
}

/**
 * The users a container gets from the host: --hostuser entries, and with
 * keep-id the caller's own, as whom the command runs unless -u says.
 */
function userSettings(
  opts: CreateOptions,
  home: string,
): { host: Partial<HostConfig>; user?: string } {
  const added = hostUserEntries(opts.hostUsers ?? [], home);
  const ns = opts.host.userns;
  let user: string | undefined;
  if (ns?.kind === "keep-id") {
    const inside = { uid: ns.uid ?? Deno.uid()!, gid: ns.gid ?? Deno.gid()! };
    const chosen = ns.uid !== undefined || ns.gid !== undefined;
    const own = keepIdEntries(inside, home, chosen);
    added.passwd.push(own.passwd);
    added.group.push(own.group);
    user = `${inside.uid}:${inside.gid}`;
  }
  if (added.passwd.length === 0) return { host: {}, user };
  return {
    host: { passwdEntries: added.passwd, groupEntries: added.group },
    user,
  };
}

/** The code for roots re-owned to a --userns, loaded only for those. */
const reowning = () =>
  lazy<typeof import("./reowned_root.ts")>(
    "src/container/reowned_root.ts",
  );

/** Stores a new container built from `root` and `opts`. */
export async function createContainer(
  store: ContainerStore,
  volumes: VolumeStore,
  root: RootSource,
  opts: CreateOptions,
): Promise<ContainerConfig> {
  await validate(opts);
  await checkNamespaces(store, opts);
  checkRequired(store, opts.host.requires);
  if (store.paths.rootless) checkUserns(opts.host.userns, userMaps());
  const entrypoint = opts.entrypoint ?? root.entrypoint;
  // Docker: an explicit entrypoint drops the image's Cmd.
  const cmd = opts.command.length > 0
    ? opts.command
    : opts.entrypoint !== undefined
    ? []
    : root.cmd;
  if (entrypoint.length + cmd.length === 0) {
    throw invalid(
      "no command or entrypoint provided, and no CMD or ENTRYPOINT from image",
    );
  }
  const own = opts.mounts ?? [];
  const mounts = planMounts([...own, ...volumesFrom(store, opts, own)], {
    readOnlyTmpfs: opts.host.readOnly && (opts.readOnlyTmpfs ?? true),
    imageVolumes: opts.imageVolume === "ignore" ? [] : root.volumes ?? [],
    imageVolumesTmpfs: opts.imageVolume === "tmpfs",
  });
  checkHostPaths(mounts);
  trace("create-checked");
  const workdir = opts.workdir ?? root.workdir;
  const users = userSettings(opts, workdir || "/");
  const secrets = opts.host.secrets?.length
    ? await lazy<typeof import("../secret/use.ts")>(
      "src/secret/use.ts",
    )
    : undefined;
  const secretStore = secrets && new secrets.SecretStore(store.paths);
  const host = await resolveNetwork(
    store,
    {
      ...opts.host,
      ...users.host,
      ...(secrets
        ? { secrets: secrets.resolveSecrets(secretStore!, opts.host.secrets!) }
        : {}),
    },
    opts.publishAll ? root.exposed ?? [] : [],
  );
  trace("create-network");
  host.seccompProfile ??= DEFAULT_SECCOMP_PROFILE;
  host.seccompProgram = await containerSeccomp(store.paths.data, host);
  trace("create-seccomp");
  const vfs = storeDriver(store.paths.data) === "vfs";
  // The health code, for a container with a check of its own or its image's.
  const healthcheck = opts.host.healthcheck || root.healthcheck
    ? (await lazy<typeof import("./health_config.ts")>(
      "src/container/health_config.ts",
    ))
      .chooseHealthcheck(opts.host.healthcheck, root.healthcheck)
    : undefined;
  const base = withoutUnset(
    mergeEnv(
      PATH_ENV,
      opts.defaultEnv ?? DEFAULT_ENV,
      root.rootfs ? [] : CONTAINER_ENV,
      root.env,
    ),
    opts,
  );
  const user = opts.user ?? users.user ?? root.user;
  // auto: its ids are chosen, and held under a lock, until it is stored.
  using _held = store.paths.rootless && host.userns?.kind === "auto"
    ? await (await reowning()).holdAutoRange(store, host, root.layers, user)
    : undefined;
  const c = await store.create(
    {
      image: root.image,
      imageId: root.imageId,
      ...(root.imageDigest ? { imageDigest: root.imageDigest } : {}),
      layers: root.layers,
      rootfs: root.rootfs,
      ...(vfs ? { storageDriver: "vfs" as const } : {}),
      entrypoint,
      cmd,
      env: mergeEnv(
        base,
        opts.envMerge?.length
          ? (await lazy<typeof import("./process_opts.ts")>(
            "src/container/process_opts.ts",
          )).envMerge(base, opts.envMerge)
          : [],
        opts.envHost ? hostEnv() : [],
        opts.proxyEnv ?? [],
        opts.env,
      ),
      workdir,
      user,
      hostname: opts.hostname ?? "",
      labels: opts.labels,
      exposed: root.exposed,
      host: {
        ...host,
        healthcheck,
      },
      mounts,
      ...(opts.createCommand ? { createCommand: opts.createCommand } : {}),
      ...(opts.build ? { build: true } : {}),
    },
    opts.name,
    opts.parent ? ownClaim(true) : {},
  );
  trace("create-stored");
  try {
    // vfs: the container's root is its own copy of the layers, made once,
    // as root of the user namespace (owners and whiteouts as the layers say).
    if (secrets) {
      secrets.copySecrets(secretStore!, store.dir(c.id), c.host.secrets!);
    }
    if (vfs) await fillFromImage(vfsRoot(store, c), "/", root.layers);
    const maps = store.paths.rootless && !root.rootfs
      ? reownMaps(c.host.userns, userMaps())
      : undefined;
    if (maps) {
      const r = await reowning();
      if (!vfs) {
        const copy = await r.reownedImage(root.layers, maps);
        await r.dropUnusedCopies(store, copy.slice(0, copy.lastIndexOf("/")));
      }
      await r.ownContainerDirs(
        store.dir(c.id),
        maps,
        vfs ? vfsRoot(store, c) : undefined,
      );
    }
    await ensureVolumes(volumes, mounts, root.layers);
  } catch (e) {
    await store.remove(c.id);
    throw e;
  }
  trace("create-filled");
  await emitContainerEvent(c, "create");
  return c;
}
