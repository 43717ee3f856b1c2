/**
 * The engine's `create` and `run`: a request (the container's settings,
 * parsed once, plus where its root comes from), the image resolved and
 * pulled as the pull policy says, the container stored, then started in
 * the way the front end asks.
 */
import { createNeedsCgroups } from "../cgroup/needed.ts";
import { cachedContainersConf } from "../config/conf_cache.ts";
import type {
  ContainerConfig,
  ContainerMount,
  HostConfig,
} from "../container/config.ts";
import {
  createContainer as storeContainer,
  type CreateOptions,
  rootfsSource,
} from "../container/create.ts";
import {
  type ForegroundOptions,
  runForeground,
} from "../container/foreground.ts";
import {
  removeContainer,
  runAttached,
  startContainer,
  startRequired,
} from "../container/lifecycle.ts";
import { checkPassthrough } from "../container/log_driver.ts";
import { ContainerStore } from "../container/store.ts";
import { removeStored } from "../container/volumes.ts";
import type { PullOptions, PullProgress } from "../image/pull.ts";
import { ensureImage, imageSource, type PullPolicy } from "../image/resolve.ts";
import { ImageStore } from "../image/store.ts";
import { type AttachmentFlags, parseNetworks } from "../network/mode.ts";
import { isKind, PtdError } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { trace } from "../runtime/trace.ts";
import { VolumeStore } from "../volume/store.ts";
import { withConfDefaults } from "./defaults.ts";
import type { Engine } from "./engine.ts";
import { emitEvent } from "../events/emit.ts";

// Not listing.ts's: that module (with inspect's and ps's presentation) is
// no part of a run.
const containerStore = (e: Engine) => e.store(ContainerStore);

/**
 * The network settings of a request from a `--network` value. The one
 * place the value is parsed: the parsed mode is stored with the container
 * and is what everything after reads; the text stays for inspect.
 */
export function networkSettings(
  values: string | string[] = [],
  flags: AttachmentFlags = {},
): Pick<HostConfig, "network" | "networkMode"> {
  const list = typeof values === "string" ? [values] : values;
  return {
    network: list.length > 0 ? list.join(",") : "private",
    networkMode: parseNetworks(list, flags),
  };
}

/** A container to create: its settings and where its root comes from. */
export interface CreateRequest extends CreateOptions {
  /** An image reference, or with `rootfs` a root directory. */
  image: string;
  rootfs?: boolean;
  /** When to pull the image (default: missing). */
  pull?: PullPolicy;
  /** --replace: a container of the same name is removed first, even running. */
  replace?: boolean;
  /** The auth file a pull reads (--authfile). */
  authFile?: string;
  /** --pod NAME|ID, or new:NAME: the pod to join (engine/pods.ts). */
  pod?: string;
  /** What else a pull is told: --tls-verify, the platform to pick. */
  pullOptions?: Pick<PullOptions, "tlsVerify" | "platform">;
}

/**
 * --replace: removes the container called `name`, if there is one, and
 * tells `replaced` (Podman prints its name).
 */
async function replaceNamed(
  store: ContainerStore,
  name: string,
  replaced?: (name: string) => void,
) {
  let old;
  try {
    old = store.find(name);
  } catch (e) {
    if (isKind(e, "not-found")) return;
    throw e;
  }
  if (old.name !== name) return;
  await removeContainer(store, old, true);
  replaced?.(name);
}

/**
 * --mount type=image: the layer directories of each image named, found
 * now, with Podman's words (and start's exit code) for a missing one.
 */
function imageMounts(
  e: Engine,
  mounts: ContainerMount[] | undefined,
): ContainerMount[] | undefined {
  if (!mounts?.some((m) => m.type === "image")) return mounts;
  const images = e.store(ImageStore);
  return mounts.map((m) => {
    if (m.type !== "image") return m;
    try {
      return { ...m, layers: images.lowerDirs(images.find(m.source)) };
    } catch (err) {
      throw new PtdError(
        "cannot-invoke",
        `creating image volume "${m.source}":"${m.destination}": ${
          (err as Error).message
        }`,
      );
    }
  });
}

/** What a front end hears of while a container is created. */
export interface CreateHooks {
  onProgress?: (p: PullProgress) => void;
  /** --replace removed the container of that name. */
  replaced?: (name: string) => void;
}

/**
 * Creates the container `req` describes; `hooks` hear of a pull and of a
 * replaced container. Nothing is left behind when it fails.
 */
export async function createContainer(
  e: Engine,
  req: CreateRequest,
  hooks: CreateHooks = {},
): Promise<ContainerConfig> {
  const { onProgress } = hooks;
  if (req.pod) {
    const { podMember } = await lazy<typeof import("./pods.ts")>(
      "src/engine/pods.ts",
    );
    req = await podMember(e, req.pod, { ...req, pod: undefined });
  }
  // A limit this host cannot enforce is refused before anything is made.
  // The manager is chosen once, here: the container's parent uses it.
  const policy = createNeedsCgroups(req.host)
    ? await lazy<typeof import("../cgroup/policy.ts")>(
      "src/cgroup/policy.ts",
    )
    : undefined;
  req = {
    ...req,
    host: {
      ...req.host,
      cgroupManager: req.host.cgroups === "disabled"
        ? undefined
        : policy?.chooseCgroupManager() ?? "cgroupfs",
    },
  };
  policy?.checkCgroupSettings(req.host);
  trace("create-cgroup");
  req = { ...req, mounts: imageMounts(e, req.mounts) };
  let root;
  if (req.rootfs) root = rootfsSource(req.image);
  else {
    const images = e.store(ImageStore);
    if (req.authFile !== undefined) {
      const { checkAuthFile } = await lazy<typeof import("../image/auth.ts")>(
        "src/image/auth.ts",
      );
      checkAuthFile(req.authFile);
    }
    const img = await ensureImage(images, req.image, req.pull ?? "missing", {
      ...req.pullOptions,
      onProgress,
      authFile: req.authFile,
    });
    trace("create-image");
    // Podman tells of a pull even when the image was there already.
    await emitEvent({ type: "image", action: "pull", name: req.image });
    root = imageSource(images, req.image, img);
    trace("create-image-event");
  }
  if (req.replace && req.name) {
    await replaceNamed(containerStore(e), req.name, hooks.replaced);
  }
  const [full, source] = withConfDefaults(
    req,
    root,
    await cachedContainersConf(`${e.paths.runtime}/containers-conf.json`),
    policy?.limitRefusal,
  );
  trace("create-defaults");
  return await storeContainer(
    containerStore(e),
    e.store(VolumeStore),
    source,
    full,
  );
}

/**
 * `run`: creates the container `req` describes, with this process as its
 * parent from the start (CreateOptions.parent), and starts it as `how`
 * says; `created` hears of it first (a cidfile, the id -d prints).
 */
export async function runNewContainer(
  e: Engine,
  req: CreateRequest,
  how: RunMode,
  hooks: CreateHooks & { created?: (c: ContainerConfig) => void } = {},
): Promise<number> {
  if (how.kind !== "attach" && how.preserveFds) {
    const { checkPreservedFds } = await lazy<
      typeof import("../container/preserved_fds.ts")
    >("src/container/preserved_fds.ts");
    checkPreservedFds(how.preserveFds);
  }
  const c = await createContainer(e, { ...req, parent: true }, hooks);
  try {
    // The driver may come from containers.conf: known once it is created.
    checkPassthrough(c.host.logDriver, how.kind === "detach");
  } catch (err) {
    await removeStored(containerStore(e), c, true);
    throw err;
  }
  hooks.created?.(c);
  return await runContainer(e, c, how);
}

/** How `runContainer` starts a container. */
export type RunMode =
  /**
   * In the background, under its monitor; returns 0 once it runs.
   * preserveFds: descriptors 3..3+N-1 go to the command through the monitor.
   */
  | { kind: "detach"; preserveFds?: number }
  /** This process is its parent; returns its exit code. */
  | ({ kind: "foreground" } & ForegroundOptions)
  /** Under its monitor, attached (-t); returns its exit code. */
  | { kind: "attach"; stdin: boolean };

/**
 * Starts a container `createContainer` made for a `run`. A conflict on the
 * way (a host port taken, or the container whose network it joins gone,
 * since it was created) removes it: a run leaves nothing behind then.
 */
export async function runContainer(
  e: Engine,
  c: ContainerConfig,
  how: RunMode,
): Promise<number> {
  const store = containerStore(e);
  try {
    if (how.kind === "attach") {
      return await runAttached(store, c, how.stdin, c.host.detachKeys);
    }
    if (how.kind === "foreground") {
      await startRequired(store, c);
      return await runForeground(store, c, how);
    }
    await startContainer(store, c, undefined, {
      preserveFds: how.preserveFds,
    });
    return 0;
  } catch (err) {
    if (isKind(err, "conflict")) await removeStored(store, c, true);
    throw err;
  }
}
