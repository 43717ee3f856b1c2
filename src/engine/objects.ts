/**
 * Containers, images and volumes as one kind of thing: whether one exists,
 * and inspect by type (`inspect --type`). Loads only the read side of each
 * area, since `inspect` is a hot command, and of containers (inspect's
 * first guess) alone until another type is asked for.
 */
import { invalid, isKind, notFound } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import type { Engine } from "./engine.ts";
import { inspectContainer } from "./listing.ts";

/** The kinds of object `exists` and `inspect --type` know. */
export type ObjectType = "container" | "image" | "volume";

const INSPECT: Record<ObjectType, (e: Engine, ref: string) => unknown> = {
  container: inspectContainer,
  image: async (e, ref) =>
    (await lazy<typeof import("./images.ts")>(
      "src/engine/images.ts",
    )).inspectImageRef(e, ref),
  volume: async (e, ref) =>
    (await lazy<typeof import("./volumes.ts")>(
      "src/engine/volumes.ts",
    )).inspectVolume(e, ref),
};

/** Whether a container, image or volume `ref` exists. */
export async function objectExists(
  e: Engine,
  type: ObjectType,
  ref: string,
): Promise<boolean> {
  try {
    await INSPECT[type](e, ref);
    return true;
  } catch (err) {
    if (isKind(err, "not-found")) return false;
    throw err;
  }
}

/** The types `inspect --type` takes. */
export const INSPECT_TYPES = [
  "container",
  "image",
  "volume",
  "network",
  "pod",
  "all",
] as const;

/**
 * Networks and pods, whose code `inspect` of a container or image never
 * loads.
 */
const INSPECT_MORE: Record<string, (e: Engine, ref: string) => unknown> = {
  network: async (e, ref) =>
    (await lazy<typeof import("./networks.ts")>(
      "src/engine/networks.ts",
    )).inspectNetworkRecord(e, ref),
  pod: async (e, ref) =>
    await (await lazy<typeof import("./pods.ts")>(
      "src/engine/pods.ts",
    )).inspectPod(e, ref),
};

const inspectOf = (type: string) =>
  INSPECT[type as ObjectType] ?? INSPECT_MORE[type];

/** `type` if inspect knows it, else Podman's error. */
export function checkInspectType(type: string): string {
  if (!(INSPECT_TYPES as readonly string[]).includes(type)) {
    throw invalid(
      `invalid type "${type}": must be "image", "container", "pod", "network", "volume", or "all"`,
    );
  }
  return type;
}

/**
 * The inspect document of `ref` as an object of `type`; with "all" the
 * first that matches, containers first (Podman's order). `size`: a
 * container's shows SizeRw and SizeRootFs (inspect -s).
 */
export async function inspectObject(
  e: Engine,
  type: string,
  ref: string,
  size = false,
): Promise<unknown> {
  checkInspectType(type);
  // -s: a container's sizes too.
  const inspect = (t: string) =>
    t === "container" ? inspectContainer(e, ref, size) : inspectOf(t)(e, ref);
  if (type !== "all") return await inspect(type);
  for (const t of ["container", "image", "volume", "network", "pod"]) {
    try {
      return await inspect(t);
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
    }
  }
  throw notFound(`no such object: "${ref}"`);
}
