/**
 * What a container's root file system comes from, in the terms both the
 * image code (which resolves an image to it) and the container code (which
 * records it) share: kept below both, so neither imports the other for it.
 */

/** The root file system a container starts from: a directory or an image. */
export interface RootSource {
  /** The image reference as the user gave it, or the --rootfs directory. */
  image: string;
  imageId: string;
  /** The image's manifest digest (inspect's ImageDigest); absent for --rootfs. */
  imageDigest?: string;
  /** Read-only lower layers, top first (a --rootfs dir is one layer). */
  layers: string[];
  /** True when `image` is a --rootfs directory. */
  rootfs: boolean;
  /** The image's defaults (Docker's image config), or the user's overrides. */
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workdir: string;
  user: string;
  /** The image's VOLUME paths: each gets an anonymous volume. */
  volumes?: string[];
  /** Ports the image exposes ("80/tcp"), published by -P. */
  exposed?: string[];
  /** The image's HEALTHCHECK. */
  healthcheck?: HealthConfig;
}

/**
 * A health check as images and Podman's inspect spell it (Docker's
 * Schema2HealthConfig): the test ("CMD" and argv, "CMD-SHELL" and a shell
 * line, or "NONE"), times in nanoseconds, 0 or absent for the default.
 */
export interface HealthConfig {
  Test: string[];
  StartPeriod?: number;
  Interval?: number;
  Timeout?: number;
  Retries?: number;
}
