/**
 * The bench's images, made from what the host has: busybox from the
 * busybox-static package and the Debian minbase rootfs of the test cache.
 * Each becomes an OCI image layout (one gzip layer) that skopeo pushes to the
 * loopback registry, so ptd and Podman pull the very same manifest.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { createGzip } from "node:zlib";

interface Blob {
  digest: string;
  size: number;
}

function hashing(into: { hash: ReturnType<typeof createHash>; size: number }) {
  return new Transform({
    transform(chunk, _enc, done) {
      into.hash.update(chunk);
      into.size += chunk.length;
      done(null, chunk);
    },
  });
}

async function writeBlob(layout: string, data: Uint8Array): Promise<Blob> {
  const hex = createHash("sha256").update(data).digest("hex");
  await Deno.writeFile(`${layout}/blobs/sha256/${hex}`, data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Gzips `tar` into the layout; returns the blob and the tar's diff id. */
async function gzipLayer(
  layout: string,
  tar: string,
): Promise<{ blob: Blob; diffId: string }> {
  const plain = { hash: createHash("sha256"), size: 0 };
  const packed = { hash: createHash("sha256"), size: 0 };
  const tmp = `${layout}/blobs/sha256/layer.tmp`;
  await pipeline(
    createReadStream(tar),
    hashing(plain),
    createGzip(),
    hashing(packed),
    createWriteStream(tmp),
  );
  const hex = packed.hash.digest("hex");
  await Deno.rename(tmp, `${layout}/blobs/sha256/${hex}`);
  return {
    blob: { digest: `sha256:${hex}`, size: packed.size },
    diffId: `sha256:${plain.hash.digest("hex")}`,
  };
}

/**
 * Writes an OCI image layout at `layout` (tag "latest") whose only layer is
 * the plain tar file `tar`; `cmd` is the image's default command.
 */
export async function ociLayout(
  layout: string,
  tar: string,
  cmd: string[],
): Promise<void> {
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  const { blob: layer, diffId } = await gzipLayer(layout, tar);
  const enc = new TextEncoder();
  const config = await writeBlob(
    layout,
    enc.encode(JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {
        Env: [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ],
        Cmd: cmd,
      },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created_by: "ptd bench" }],
    })),
  );
  const manifest = await writeBlob(
    layout,
    enc.encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        ...config,
      },
      layers: [{
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        ...layer,
      }],
    })),
  );
  await Deno.writeTextFile(
    `${layout}/oci-layout`,
    JSON.stringify({ imageLayoutVersion: "1.0.0" }),
  );
  await Deno.writeTextFile(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        annotations: { "org.opencontainers.image.ref.name": "latest" },
      }],
    }),
  );
}

/** Pushes the layout's "latest" to `ref` on a plain-http registry. */
export async function pushLayout(layout: string, ref: string): Promise<void> {
  const out = await new Deno.Command("skopeo", {
    args: [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      `oci:${layout}:latest`,
      `docker://${ref}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `skopeo copy to ${ref}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}
