/**
 * A tiny real image for tests, built without any registry: one gzipped
 * layer holding /bin/busybox (busybox-static) and a few applet symlinks,
 * stored straight into a sandbox's image store as an OCI image.
 */
import zlib from "node:zlib";
import {
  type ImageConfig,
  type Manifest,
  MediaType,
} from "../src/image/oci.ts";
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
 * Stores a busybox image named `name` in the sandbox's store (blobs and
 * record, no unpacked layer: enough to push). Returns the record.
 */
export async function storeBusyboxImage(
  sb: Sandbox,
  name: string,
  opts: {
    defaults?: ImageConfig["config"];
    compression?: "gzip" | "zstd" | "none";
  } = {},
): Promise<ImageRecord> {
  const paths = {
    data: sb.env.PTD_ROOT,
    runtime: sb.env.PTD_RUNROOT,
    rootless: true,
  };
  const store = new ImageStore(paths);
  const blobs = store.blobs;
  const tar = blobs.tempPath();
  await busyboxLayerTar(tar);
  const diffId = await blobs.adopt(tar);
  const compression = opts.compression ?? "gzip";
  let layerDigest = diffId;
  if (compression !== "none") {
    const data = Deno.readFileSync(blobs.path(diffId));
    layerDigest = await blobs.putBytes(
      compression === "gzip"
        ? zlib.gzipSync(data)
        : zlib.zstdCompressSync(data),
    );
    blobs.remove([diffId]);
  }
  const layerType = {
    gzip: MediaType.ociLayerGzip,
    zstd: MediaType.ociLayerZstd,
    none: MediaType.ociLayer,
  }[compression];
  const config: ImageConfig = {
    created: "2024-01-01T00:00:00Z",
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/bin"], Cmd: ["sh"], ...opts.defaults },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{
      created: "2024-01-01T00:00:00Z",
      created_by: "ptd test: busybox layer",
    }],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = await blobs.putBytes(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: {
      mediaType: MediaType.ociConfig,
      digest: configDigest,
      size: configBytes.length,
    },
    layers: [{
      mediaType: layerType,
      digest: layerDigest,
      size: blobs.size(layerDigest),
    }],
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = await blobs.putBytes(manifestBytes);
  return await store.commit({
    id: configDigest.slice(7),
    names: [name],
    repoDigests: [],
    digest,
    manifestMediaType: MediaType.ociManifest,
    manifest,
    config,
    size: configBytes.length + manifest.layers[0].size,
    stored: new Date().toISOString(),
  });
}
