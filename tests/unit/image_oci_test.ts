/** Platform selection from image indexes, chain ids, layer compression. */
import { assertEquals, assertThrows } from "../assert.ts";
import {
  chainIds,
  type Descriptor,
  type Index,
  layerCompression,
  MediaType,
  parsePlatform,
  type Platform,
  selectPlatform,
} from "../../src/image/oci.ts";
import { digestOf } from "../../src/storage/blobs.ts";
import { manifestType } from "../../src/image/registry.ts";

function entry(
  n: number,
  platform: Platform,
  mediaType: string = MediaType.ociManifest,
): Descriptor {
  return {
    mediaType,
    digest: `sha256:${String(n).repeat(64)}`,
    size: 1,
    platform,
  };
}

const INDEX: Index = {
  schemaVersion: 2,
  manifests: [
    entry(1, { os: "linux", architecture: "arm", variant: "v6" }),
    entry(2, { os: "linux", architecture: "arm", variant: "v7" }),
    entry(3, { os: "linux", architecture: "arm64", variant: "v8" }),
    entry(4, { os: "windows", architecture: "amd64" }),
    entry(5, { os: "linux", architecture: "amd64" }),
    entry(6, { os: "unknown", architecture: "unknown" }),
  ],
};

Deno.test("index: picks os/architecture and the variant", () => {
  assertEquals(
    selectPlatform(INDEX, { os: "linux", architecture: "amd64" }).digest,
    INDEX.manifests[4].digest,
  );
  assertEquals(
    selectPlatform(INDEX, { os: "linux", architecture: "arm", variant: "v7" })
      .digest,
    INDEX.manifests[1].digest,
  );
  // arm64 without a variant means v8.
  assertEquals(
    selectPlatform(INDEX, { os: "linux", architecture: "arm64" }).digest,
    INDEX.manifests[2].digest,
  );
});

Deno.test("index: a Docker manifest list entry counts; a missing platform is an error", () => {
  const list: Index = {
    schemaVersion: 2,
    manifests: [
      entry(
        7,
        { os: "linux", architecture: "amd64" },
        MediaType.dockerManifest,
      ),
    ],
  };
  assertEquals(
    selectPlatform(list, { os: "linux", architecture: "amd64" }).digest,
    list.manifests[0].digest,
  );
  assertThrows(
    () => selectPlatform(INDEX, { os: "linux", architecture: "s390x" }),
    /no image found in manifest list for architecture linux\/s390x/,
  );
});

Deno.test("chain ids: first is the diff id, then sha256 of 'prev diff'", () => {
  const a = digestOf("a");
  const b = digestOf("b");
  assertEquals(chainIds([a, b]), [a, digestOf(`${a} ${b}`)]);
  assertEquals(chainIds([]), []);
});

Deno.test("layer media types: gzip, zstd, plain; others refused", () => {
  assertEquals(layerCompression(MediaType.dockerLayer), "gzip");
  assertEquals(layerCompression(MediaType.ociLayerGzip), "gzip");
  assertEquals(layerCompression(MediaType.ociLayerZstd), "zstd");
  assertEquals(layerCompression(MediaType.ociLayer), "none");
  assertThrows(
    () =>
      layerCompression(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip+x",
      ),
    /unsupported/,
  );
});

Deno.test("platform flags: --platform os/arch[/variant], or --os/--arch/--variant", () => {
  assertEquals(parsePlatform({}), undefined);
  assertEquals(parsePlatform({ platform: "linux/arm/v7" }), {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  assertEquals(parsePlatform({ platform: "linux/amd64" }), {
    os: "linux",
    architecture: "amd64",
  });
  assertEquals(parsePlatform({ arch: "s390x" }), {
    os: "linux",
    architecture: "s390x",
  });
  assertThrows(() => parsePlatform({ platform: "linux" }), /invalid platform/);
});

Deno.test("manifest type: the mediaType field, the Content-Type, or the shape", () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  assertEquals(
    manifestType(
      enc({ mediaType: MediaType.dockerManifest }),
      MediaType.ociManifest,
    ),
    MediaType.dockerManifest,
  );
  assertEquals(
    manifestType(enc({ config: {} }), MediaType.dockerManifest),
    MediaType.dockerManifest,
  );
  assertEquals(
    manifestType(enc({ manifests: [] }), "application/json"),
    MediaType.ociIndex,
  );
  assertEquals(
    manifestType(enc({ config: {}, layers: [] })),
    MediaType.ociManifest,
  );
  assertThrows(
    () => manifestType(new TextEncoder().encode("{")),
    /not valid JSON/,
  );
});
