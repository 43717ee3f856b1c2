/**
 * `play kube --build`: an image a manifest names is built first when a
 * directory of its name, in the working directory (or --context-dir),
 * holds a Containerfile or Dockerfile, as Podman 4.3 does it: always with
 * --build, never with --build=false, and without the flag only when the
 * image is missing. The build goes through the engine's `build`, loaded
 * only then (it brings the Containerfile parser).
 */
import { buildCode } from "../engine/build_code.ts";
import type { Engine } from "../engine/engine.ts";
import { ImageStore } from "../image/store.ts";
import { localName } from "../image/reference.ts";
import { PtdError } from "../runtime/errors.ts";

/** When `play kube` builds (--build, --build=false, absent). */
export interface BuildPolicy {
  build?: boolean;
  /** --context-dir: where the image directories are (default: cwd). */
  contextDir?: string;
  /** Hears the build's progress, as `build` prints it. */
  say?: (line: string) => void;
}

/**
 * The directory an image's name points at: its last path component,
 * without tag or digest ("registry/app/web:1" -> "web").
 */
export function buildDirName(image: string): string {
  const path = image.split("@")[0];
  return path.slice(path.lastIndexOf("/") + 1).split(":")[0];
}

/** The Containerfile (or Dockerfile) under `dir` for `image`, if any. */
export function buildFileOf(image: string, dir: string): string | undefined {
  for (const name of ["Containerfile", "Dockerfile"]) {
    const file = `${dir}/${buildDirName(image)}/${name}`;
    try {
      if (Deno.statSync(file).isFile) return file;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Builds those of `images` the policy says to build; returns the names
 * built (their containers use the local image, never a pull).
 */
export async function buildImages(
  e: Engine,
  images: string[],
  policy: BuildPolicy,
): Promise<Set<string>> {
  const built = new Set<string>();
  if (policy.build === false) return built;
  const dir = policy.contextDir ?? Deno.cwd();
  const store = e.store(ImageStore);
  for (const image of new Set(images)) {
    const file = buildFileOf(image, dir);
    if (!file || (!policy.build && store.lookup(image))) continue;
    const say = policy.say ?? (() => {});
    const { buildImage } = await buildCode();
    const img = await buildImage(e, {
      context: file.slice(0, file.lastIndexOf("/")),
      file,
      tags: [image],
      buildArgs: new Map(),
      say,
    }).catch((err) => {
      // A failed RUN step's status is `build`'s exit code; `play kube`
      // fails as an engine error whatever the step's status, as Podman's.
      throw err instanceof PtdError ? new PtdError(err.kind, err.message) : err;
    });
    say(`COMMIT ${image}`);
    say(`Successfully tagged ${localName(image)}`);
    say(img.id);
    built.add(image);
  }
  return built;
}
