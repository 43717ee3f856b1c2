/**
 * A tiny real image for tests, built without any registry: the busybox
 * layer of tests/fixtures.ts plus /hello.txt, imported straight into a
 * sandbox's image store.
 */
import zlib from "node:zlib";
import { importRootfs } from "../src/image/archive.ts";
import { type ImageRecord, ImageStore } from "../src/image/store.ts";
import { busyboxEntries, makeTar } from "./fixtures.ts";
import type { Sandbox } from "./helpers.ts";
import { podmanOk } from "./podman.ts";

/** The image's PATH (busybox puts applets in all four directories). */
export const PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Stores a busybox image named `name` in the sandbox's store, through the
 * library's `import` (so the layer is unpacked too). `changes` are
 * Dockerfile-style defaults ("CMD [...]"); the layer is compressed as asked.
 */
export async function storeBusyboxImage(
  sb: Sandbox,
  name: string,
  opts: { changes?: string[]; compression?: "gzip" | "zstd" | "none" } = {},
): Promise<ImageRecord> {
  const store = new ImageStore({
    data: sb.env.PTD_ROOT,
    runtime: sb.env.PTD_RUNROOT,
    rootless: Deno.uid() !== 0,
  });
  const tar = `${sb.dir}/busybox-layer.tar`;
  const data = await makeTar([...busyboxEntries(), {
    name: "hello.txt",
    mode: 0o644,
    data: new TextEncoder().encode("hello from the image\n"),
  }]);
  const packed = {
    gzip: () => zlib.gzipSync(data),
    zstd: () => zlib.zstdCompressSync(data),
    none: () => data,
  }[opts.compression ?? "gzip"]();
  Deno.writeFileSync(tar, packed);
  try {
    return await importRootfs(store, tar, {
      reference: name,
      changes: [`ENV PATH=${PATH}`, 'CMD ["sh"]', ...(opts.changes ?? [])],
      message: "ptd test: busybox layer",
    });
  } finally {
    Deno.removeSync(tar);
  }
}

/**
 * The busybox image under `name` in both ptd's store and Podman's (the
 * sandbox's, see tests/podman.ts), for differential tests.
 */
export async function storeBusyboxForBoth(sb: Sandbox, name: string) {
  await storeBusyboxImage(sb, name);
  const tar = `${sb.dir}/busybox-rootfs.tar`;
  Deno.writeFileSync(tar, await makeTar(busyboxEntries()));
  await podmanOk(sb, ["import", "-q", tar, name]);
  Deno.removeSync(tar);
}
