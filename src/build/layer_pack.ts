/**
 * A container's upper dir as a layer tar: what `commit` and each step of a
 * `build` turn into an image layer. The upper dir holds overlay's forms
 * (whiteouts as 0/0 character devices, opaque directories by xattr); the
 * tar gets the OCI forms (`.wh.NAME`, `.wh..wh..opq`), in a stable order, so
 * the same changes always make the same layer (and diff id).
 *
 * Rootless, the upper dir holds files of the user's subordinate ids that the
 * user cannot read, so the tar is written by a helper (`ptd storage-layer`)
 * running as root of a user namespace with the user's maps; there every
 * owner reads back as the container's own id.
 */
import { Buffer } from "node:buffer";
import { createReadStream } from "node:fs";
import tar from "tar-stream";
import { isInitPath } from "../container/diff.ts";
import { CLONE_NEWNS } from "../../ffi/constants.ts";
import { closeFd, pipeFromChild } from "../../ffi/fd.ts";
import { openRoot } from "../container/cp.ts";
import { landTree } from "../container/cp_tree.ts";
import { removeTrees } from "../storage/remove.ts";
import { errorFromJson, writeErrorReport } from "../runtime/errors.ts";
import { runInUserNamespace } from "../runtime/userns.ts";
import { isOverlayXattr, upperChanges } from "../storage/overlay_upper.ts";
import { lgetxattrBytes, llistxattr } from "../../ffi/fs.ts";
import { PAX_XATTR, pushXattrs } from "../image/pax.ts";
import { writeAll } from "../storage/blobs.ts";

/** The hidden subcommand that writes a layer tar in the user namespace. */
export const LAYER_COMMAND = "storage-layer";

/** A tar header for `name` from an lstat. */
function header(name: string, st: Deno.FileInfo): Partial<tar.Header> {
  return {
    name,
    mode: st.mode! & 0o7777,
    uid: st.uid!,
    gid: st.gid!,
    mtime: st.mtime ?? new Date(0),
  };
}

/**
 * The extended attributes of `path` a layer carries, as pax records: file
 * capabilities (read here in the user namespace, the kernel gives them in
 * the v2 form images hold) and `user.*` ones other than overlay's own.
 */
function xattrRecords(path: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  let names: string[];
  try {
    names = llistxattr(path);
  } catch {
    return out; // a file system without xattrs
  }
  for (const name of names) {
    const kept = name === "security.capability" ||
      (name.startsWith("user.") && !isOverlayXattr(name));
    const value = kept ? lgetxattrBytes(path, name) : undefined;
    if (value) out[`${PAX_XATTR}${name}`] = value;
  }
  return out;
}

/**
 * Writes the changes of the upper dir `upper` to the new file `out` as a
 * layer tar. `skipInit` leaves out what a container's start puts there
 * (mount points, /etc/hosts...): never image content.
 */
export async function packUpper(
  upper: string,
  out: string,
  skipInit: boolean,
): Promise<void> {
  const file = await Deno.open(out, { write: true, createNew: true });
  const pack = tar.pack();
  const done = (async () => {
    for await (const chunk of pack) await writeAll(file, chunk as Uint8Array);
  })();
  done.catch(() => {});
  const entry = (h: Partial<tar.Header>, body = Buffer.alloc(0)) =>
    new Promise<void>((ok, fail) =>
      pack.entry(h as tar.Header, body, (e) => e ? fail(e) : ok())
    );
  const links = new Map<string, string>();
  const epoch = new Date(0);
  try {
    for (const c of upperChanges(upper)) {
      if (skipInit && isInitPath(`/${c.path}`)) continue;
      if (c.kind !== "node") {
        await entry({ name: c.path, mode: 0, mtime: epoch });
        continue;
      }
      const st = c.info!;
      const path = `${upper}/${c.path}`;
      const h = header(c.path, st);
      /** `h` after the pax header of the node's xattrs, if it has any. */
      const withXattrs = () => ({
        ...h,
        name: pushXattrs((b) => pack.push(b), c.path, xattrRecords(path)),
      });
      if (st.isDirectory) await entry({ ...withXattrs(), type: "directory" });
      else if (st.isSymlink) {
        await entry({
          ...h,
          type: "symlink",
          linkname: Deno.readLinkSync(path),
        });
      } else if (st.isFile) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink! > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          await entry({ ...h, type: "link", linkname: first });
          continue;
        }
        links.set(key, c.path);
        await new Promise<void>((ok, fail) => {
          const sink = pack.entry(
            { ...withXattrs(), size: st.size } as tar.Header,
            (e) => e ? fail(e) : ok(),
          );
          const src = createReadStream(path);
          src.on("error", fail);
          src.pipe(sink as unknown as NodeJS.WritableStream);
        });
      } else if (st.isFifo) await entry({ ...h, type: "fifo" });
      else if (st.isCharDevice || st.isBlockDevice) {
        const rdev = st.rdev ?? 0;
        await entry({
          ...h,
          type: st.isCharDevice ? "character-device" : "block-device",
          devmajor: (rdev >> 8) & 0xfff,
          devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
        });
      }
    }
    pack.finalize();
    await done;
    await file.sync();
  } catch (e) {
    pack.destroy();
    await Deno.remove(out).catch(() => {});
    throw e;
  } finally {
    file.close();
  }
}

/**
 * Lands the tar file `files` at "/" of an overlay of `lowers` (top first)
 * over the empty `upper` (with `work`), then writes the changes, that
 * upper dir, to `out` as a layer tar and removes both dirs: COPY's
 * files over an image, with every directory on their way copied up as the
 * image has it, in one helper and without a container.
 */
async function landAndPack(
  overlay: { lower: string[]; upper: string; work: string },
  files: string,
  out: string,
): Promise<void> {
  const root = openRoot({ overlay });
  try {
    await landTree(createReadStream(files), root.fd, "/", {
      userns: true,
      owner: "keep",
      stdin: true,
      where: "the image",
    });
  } finally {
    root.release();
  }
  try {
    await packUpper(overlay.upper, out, false);
  } finally {
    for (const d of [overlay.upper, overlay.work]) {
      Deno.removeSync(d, { recursive: true });
    }
  }
}

/**
 * Entry of `ptd storage-layer ERRFD MODE ARGS...` in the user namespace:
 * "pack UPPER OUT SKIPINIT" writes an upper dir's layer tar, "land
 * OVERLAY FILES OUT" lands a tar over an image first (see landAndPack). A
 * failure is reported on ERRFD as an error's JSON.
 */
export async function layerMain(args: string[]): Promise<number> {
  const [errFd, mode, a, b, c] = args;
  const err = Deno.openSync(`/proc/self/fd/${errFd}`, { write: true });
  closeFd(Number(errFd));
  try {
    if (mode === "land") await landAndPack(JSON.parse(a), b, c);
    else await packUpper(a, b, c === "1");
    return 0;
  } catch (e) {
    writeErrorReport(err, e);
    return 1;
  } finally {
    err.close();
  }
}

/** Runs the layer helper with `args`; `out` goes when it fails. */
async function layerHelper(
  args: string[],
  out: string,
  flags = 0,
): Promise<void> {
  const err = pipeFromChild();
  const exit = runInUserNamespace(
    [LAYER_COMMAND, String(err.write), ...args],
    flags,
  );
  // The helper was cloned before the call returned: it has its copy.
  closeFd(err.write);
  const code = await exit;
  const report = await new Response(err.file.readable).text();
  if (code !== 0) {
    await Deno.remove(out).catch(() => {});
    throw errorFromJson(report || `layer helper exited with ${code}`);
  }
}

/**
 * Writes the layer tar of `upper` to the new file `out`: in this process
 * as real root, else through the helper in a user namespace.
 */
export async function writeUpperLayer(
  upper: string,
  out: string,
  skipInit: boolean,
): Promise<void> {
  if (Deno.uid() === 0) return await packUpper(upper, out, skipInit);
  await layerHelper(["pack", upper, out, skipInit ? "1" : "0"], out);
}

/**
 * The layer that landing the tar file `files` at "/" of the image whose
 * layer dirs are `lowers` (top first) makes, written to `out`; `tmp` is a
 * new directory for the overlay's upper and work dirs, removed afterwards.
 */
export async function landLayer(
  lowers: string[],
  files: string,
  tmp: string,
  out: string,
): Promise<void> {
  const overlay = { lower: lowers, upper: `${tmp}/upper`, work: `${tmp}/work` };
  Deno.mkdirSync(overlay.upper, { recursive: true, mode: 0o755 });
  Deno.mkdirSync(overlay.work, { mode: 0o700 });
  try {
    await layerHelper(
      ["land", JSON.stringify(overlay), files, out],
      out,
      CLONE_NEWNS,
    );
  } finally {
    await removeTrees([tmp]);
  }
}
