/**
 * From an image name to what a container starts from: the local image
 * (pulled first when the pull policy says so) as a RootSource — its layer
 * directories and the config's Entrypoint, Cmd, Env, WorkingDir and User.
 */
import { invalid } from "../runtime/errors.ts";
import type { RootSource } from "../storage/root_source.ts";
import { lazy } from "../runtime/lazy.ts";
import type { PullOptions } from "./pull.ts";
import { type ImageRecord, type ImageStore, NoSuchImage } from "./store.ts";

/**
 * When `run`/`create`/`build` pull: Podman's --pull values ("newer": when
 * the registry's digest differs from the local image's).
 */
export type PullPolicy = "always" | "missing" | "never" | "newer";

/** Parses a --pull value ("true"/"false" as Docker's older spelling). */
export function parsePullPolicy(value: string): PullPolicy {
  const v = value === "true" ? "always" : value === "false" ? "missing" : value;
  if (v === "always" || v === "missing" || v === "never") return v;
  throw invalid(
    `invalid pull policy "${value}": want always, missing or never`,
  );
}

const pullCode = () => lazy<typeof import("./pull.ts")>("src/image/pull.ts");

/** The local image for `name`, pulling it as `policy` says. */
export async function ensureImage(
  store: ImageStore,
  name: string,
  policy: PullPolicy,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  let local = policy !== "always";
  if (policy === "newer") {
    const img = store.lookup(name);
    if (img) {
      local = !await (await pullCode()).registryHasNewer(name, img, opts);
    }
  }
  if (local) {
    const img = store.lookup(name);
    // A layer tree removed behind ptd's back is unpacked again, not handed
    // to overlay as a missing lower dir. The pull code (and the Node layer
    // its streams need) is loaded only then: most runs find every tree.
    if (img && store.hasLayers(img)) return img;
    if (img) {
      const { unpackLayers } = await pullCode();
      await store.writing(() =>
        unpackLayers(store, img.manifest, img.config.rootfs.diff_ids)
      );
      return img;
    }
    if (policy === "never") throw new NoSuchImage(name);
  }
  const { pullImage } = await pullCode();
  return await pullImage(store, name, opts);
}

/** An image as the root a container starts from. */
export function imageSource(
  store: ImageStore,
  name: string,
  img: ImageRecord,
): RootSource {
  const c = img.config.config ?? {};
  return {
    // Podman records the image's full name (with its tag), not a short one.
    image: store.nameFor(name, img) ?? name,
    imageId: img.id,
    imageDigest: img.digest,
    layers: store.lowerDirs(img),
    rootfs: false,
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    env: c.Env ?? [],
    workdir: c.WorkingDir || "/",
    user: c.User ?? "",
    volumes: Object.keys(c.Volumes ?? {}),
    exposed: Object.keys(c.ExposedPorts ?? {}),
    ...(c.Healthcheck ? { healthcheck: c.Healthcheck } : {}),
  };
}
