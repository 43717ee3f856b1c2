/**
 * A file as an image's layers hold it, for what ptd builds from the image
 * (base_hosts_file = "image"). Every path is resolved inside its layer
 * (openat2 RESOLVE_IN_ROOT): a symlink in an image never leads out of it.
 */
import * as fs from "../../ffi/fs.ts";
import { isWhiteout } from "../storage/overlay_upper.ts";

const IN_ROOT = fs.RESOLVE_IN_ROOT | fs.RESOLVE_NO_MAGICLINKS;

/** Runs `fn` on an fd of `path` in the root `root`; undefined if absent. */
function withFd<T>(
  root: number,
  path: string,
  flags: number,
  fn: (fd: number) => T,
): T | undefined {
  let fd;
  try {
    fd = fs.openat2(root, path, flags, IN_ROOT);
  } catch {
    return undefined;
  }
  try {
    return fn(fd);
  } finally {
    fs.close(fd);
  }
}

/**
 * The text of `path` ("/etc/hosts") in the merged view of `layers` (top
 * first): the topmost layer's copy; undefined when none has it or a
 * whiteout hides it.
 */
export function readImageFile(
  layers: string[],
  path: string,
): string | undefined {
  const rel = path.replace(/^\/+/, "");
  for (const layer of layers) {
    let root;
    try {
      root = fs.openat2(fs.AT_FDCWD, layer, fs.O_PATH | fs.O_DIRECTORY, 0);
    } catch {
      continue;
    }
    try {
      const node = withFd(
        root,
        rel,
        fs.O_PATH | fs.O_NOFOLLOW,
        (fd) => Deno.statSync(`/proc/self/fd/${fd}`),
      );
      if (!node) continue;
      if (isWhiteout(node)) return undefined;
      const text = withFd(
        root,
        rel,
        0,
        (fd) => Deno.readTextFileSync(`/proc/self/fd/${fd}`),
      );
      if (text !== undefined) return text;
    } finally {
      fs.close(root);
    }
  }
  return undefined;
}
