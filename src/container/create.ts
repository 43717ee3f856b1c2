/**
 * Creating a container from run/create options: the library call behind
 * `ptd run` and `ptd create`, usable without the CLI.
 */
import { ownClaim } from "./liveness.ts";
import { emitContainerEvent } from "../events/emit.ts";
import { invalid } from "../runtime/errors.ts";
import { normalizeCap } from "../runtime/caps.ts";
import { DEFAULT_SECCOMP_PROFILE } from "../security/seccomp.ts";
import { containerSeccomp, seccompFile } from "./confine.ts";
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
import { parseDetachKeys } from "./detach_keys.ts";
import { chooseHealthcheck } from "./health_config.ts";
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
import { checkUserns, ipcTarget } from "./namespaces.ts";
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
      if (m.type === "tmpfs" || taken.has(m.destination)) continue;
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

/** --ipc container:NAME needs that container (Podman's error otherwise). */
function checkIpcTarget(store: ContainerStore, mode: HostConfig["ipc"]) {
  const target = ipcTarget(mode);
  if (target === undefined) return;
  try {
    store.find(target);
  } catch (e) {
    throw invalid(
      `looking up container to share ipc namespace with: ${
        (e as Error).message
      }`,
    );
  }
}

/** Checks flags whose mistakes must fail before anything is created. */
function validate(opts: CreateOptions) {
  for (const c of [...opts.host.capAdd, ...opts.host.capDrop]) normalizeCap(c);
  if (opts.host.init) initBinary(opts.host.initPath);
  checkLogDriver(opts.host.logDriver);
  checkLogPath(opts.host.logPath);
  if (opts.host.tz) zoneFile(opts.host.tz);
  checkSysctls(opts.host);
  if (opts.host.noHosts && (opts.host.addHosts ?? []).length > 0) {
    throw invalid("--no-hosts and --add-host cannot be set together");
  }
  if (opts.host.detachKeys !== undefined) parseDetachKeys(opts.host.detachKeys);
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
    const own = keepIdEntries(inside, home);
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

/** Stores a new container built from `root` and `opts`. */
export async function createContainer(
  store: ContainerStore,
  volumes: VolumeStore,
  root: RootSource,
  opts: CreateOptions,
): Promise<ContainerConfig> {
  validate(opts);
  checkIpcTarget(store, opts.host.ipc);
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
  const workdir = opts.workdir ?? root.workdir;
  const users = userSettings(opts, workdir || "/");
  const host = await resolveNetwork(
    store,
    { ...opts.host, ...users.host },
    opts.publishAll ? root.exposed ?? [] : [],
  );
  host.seccompProfile ??= DEFAULT_SECCOMP_PROFILE;
  const seccomp = await containerSeccomp(store.paths.data, host);
  const vfs = storeDriver(store.paths.data) === "vfs";
  const c = await store.create(
    {
      image: root.image,
      imageId: root.imageId,
      layers: root.layers,
      rootfs: root.rootfs,
      ...(vfs ? { storageDriver: "vfs" as const } : {}),
      entrypoint,
      cmd,
      env: mergeEnv(
        withoutUnset(
          mergeEnv(
            PATH_ENV,
            opts.defaultEnv ?? DEFAULT_ENV,
            root.rootfs ? [] : CONTAINER_ENV,
            root.env,
          ),
          opts,
        ),
        opts.envHost ? hostEnv() : [],
        opts.proxyEnv ?? [],
        opts.env,
      ),
      workdir,
      user: opts.user ?? users.user ?? root.user,
      hostname: opts.hostname ?? "",
      labels: opts.labels,
      exposed: root.exposed,
      host: {
        ...host,
        healthcheck: chooseHealthcheck(opts.host.healthcheck, root.healthcheck),
      },
      mounts,
      ...(opts.createCommand ? { createCommand: opts.createCommand } : {}),
      ...(opts.build ? { build: true } : {}),
    },
    opts.name,
    opts.parent ? ownClaim(true) : {},
  );
  try {
    // vfs: the container's root is its own copy of the layers, made once,
    // as root of the user namespace (owners and whiteouts as the layers say).
    if (seccomp) Deno.writeFileSync(seccompFile(store, c.id), seccomp);
    if (vfs) await fillFromImage(vfsRoot(store, c), "/", root.layers);
    await ensureVolumes(volumes, mounts, root.layers);
  } catch (e) {
    await store.remove(c.id);
    throw e;
  }
  await emitContainerEvent(c, "create");
  return c;
}
