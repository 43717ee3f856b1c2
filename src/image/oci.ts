/**
 * The OCI image format and Docker's schema 2 twin: media types, manifest,
 * index and config shapes, chain ids, and picking the manifest for this
 * platform out of an index.
 */
import { invalid, notFound } from "../runtime/errors.ts";
import { digestOf } from "../storage/blobs.ts";
import type { HealthConfig } from "../storage/root_source.ts";

/** Media types ptd reads and writes. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** What a registry is asked for: every manifest kind ptd understands. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
].join(", ");

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** An OS/architecture pair, as in an index. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

/** An image manifest (OCI or Docker schema 2: same shape). */
export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index / manifest list. */
export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** The runtime defaults in an image config. */
export interface ContainerDefaults {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig | null;
  /** ONBUILD triggers: instructions a build FROM this image runs first. */
  OnBuild?: string[] | null;
  /** SHELL: the shell form's command prefix. */
  Shell?: string[];
}

/** One history entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  author?: string;
}

/** An image config (OCI / Docker). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerDefaults;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** True for an index or manifest list media type. */
export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}

/** True for an image manifest media type. */
export function isManifest(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest ||
    mediaType === MediaType.dockerManifest;
}

/** How a layer blob is compressed, from its media type. */
export function layerCompression(
  mediaType: string,
): "gzip" | "zstd" | "none" {
  if (mediaType.endsWith("+zstd")) return "zstd";
  if (mediaType.endsWith("+gzip") || mediaType === MediaType.dockerLayer) {
    return "gzip";
  }
  if (mediaType === MediaType.ociLayer || mediaType.endsWith(".tar")) {
    return "none";
  }
  throw new Error(`unsupported layer media type ${mediaType}`);
}

/** The platform ptd runs on, in Go's names (what indexes use). */
export function hostPlatform(): Platform {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  return arch === "arm64"
    ? { os: "linux", architecture: arch, variant: "v8" }
    : { os: "linux", architecture: arch };
}

/**
 * Parses Podman's platform flags: `--platform os/arch[/variant]`, or
 * `--os`, `--arch`, `--variant` over this host's platform.
 */
export function parsePlatform(
  flags: { platform?: string; os?: string; arch?: string; variant?: string },
): Platform | undefined {
  if (flags.platform !== undefined) {
    const [os, architecture, variant, ...rest] = flags.platform.split("/");
    if (!os || !architecture || rest.length > 0) {
      throw invalid(
        `invalid platform "${flags.platform}": want os/arch[/variant]`,
      );
    }
    return variant ? { os, architecture, variant } : { os, architecture };
  }
  if (!flags.os && !flags.arch && !flags.variant) return undefined;
  const host = hostPlatform();
  const architecture = flags.arch ?? host.architecture;
  const variant = flags.variant ??
    (architecture === host.architecture ? host.variant : undefined);
  const os = flags.os ?? host.os;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * The manifest of `index` for `want`: same os and architecture; a variant
 * must match when both sides name one (arm64's "v8" is also the default).
 */
export function selectPlatform(
  index: Index,
  want: Platform = hostPlatform(),
): Descriptor {
  const norm = (p: Platform) =>
    p.architecture === "arm64" && !p.variant ? "v8" : p.variant;
  const candidates = index.manifests.filter((d) =>
    d.platform && d.platform.os === want.os &&
    d.platform.architecture === want.architecture && isManifest(
      d.mediaType,
    )
  );
  const exact = candidates.find((d) => norm(d.platform!) === norm(want));
  const any = candidates.find((d) => !d.platform!.variant || !want.variant);
  const hit = exact ?? any;
  if (!hit) {
    const have = index.manifests.map((d) =>
      d.platform
        ? [d.platform.os, d.platform.architecture, d.platform.variant]
          .filter(Boolean).join("/")
        : "unknown"
    );
    const w = [want.os, want.architecture, want.variant].filter(Boolean)
      .join("/");
    throw notFound(
      `no image found in manifest list for architecture ${w} (have ${
        have.join(", ")
      })`,
    );
  }
  return hit;
}

/**
 * Chain ids of a stack of layers (OCI): the first is its diff id, each next
 * one sha256("<previous chain id> <diff id>"). A layer tree is unpacked once
 * per chain id, so images sharing a base share the directories.
 */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : digestOf(`${prev} ${d}`));
  }
  return out;
}
