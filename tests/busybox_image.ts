/**
 * A tiny real image for tests, built without any registry: one layer
 * holding /bin/busybox (busybox-static), a few applet symlinks and a file,
 * imported straight into a sandbox's image store.
 */
import zlib from "node:zlib";
import { importRootfs } from "../src/image/archive.ts";
import { type ImageRecord, ImageStore } from "../src/image/store.ts";
import type { Sandbox } from "./helpers.ts";

const APPLETS = [
  "sh",
  "ls",
  "cat",
  "echo",
  "true",
  "false",
  "id",
  "env",
  "pwd",
];

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Writes the busybox layer (plain tar, root-owned) to `tarPath`. */
export async function busyboxLayerTar(tarPath: string): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ptd-bb-" });
  try {
    Deno.mkdirSync(`${root}/bin`);
    Deno.mkdirSync(`${root}/tmp`, { mode: 0o1777 });
    Deno.copyFileSync("/bin/busybox", `${root}/bin/busybox`);
    Deno.chmodSync(`${root}/bin/busybox`, 0o755);
    for (const a of APPLETS) Deno.symlinkSync("busybox", `${root}/bin/${a}`);
    Deno.writeTextFileSync(`${root}/hello.txt`, "hello from the image\n");
    await sh("tar", [
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--sort=name",
      "--mtime=2024-01-01",
      "-C",
      root,
      "-cf",
      tarPath,
      "bin",
      "tmp",
      "hello.txt",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

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
  await busyboxLayerTar(tar);
  const data = Deno.readFileSync(tar);
  const packed = {
    gzip: () => zlib.gzipSync(data),
    zstd: () => zlib.zstdCompressSync(data),
    none: () => data,
  }[opts.compression ?? "gzip"]();
  Deno.writeFileSync(tar, packed);
  try {
    return await importRootfs(store, tar, {
      reference: name,
      changes: ["ENV PATH=/bin", 'CMD ["sh"]', ...(opts.changes ?? [])],
      message: "ptd test: busybox layer",
    });
  } finally {
    Deno.removeSync(tar);
  }
}
