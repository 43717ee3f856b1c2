/**
 * Each container's seccomp program, as Podman gives it: the profile
 * containers.conf names (containers-common's seccomp.json by default) or
 * `--security-opt seccomp=FILE`, compiled for the container's bounding set.
 * A compiled program is cached under the store, keyed by the profile's
 * digest, the capability set, the machine and the kernel, so that a `run`
 * reads one small file instead of compiling.
 */
import { invalid } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { digestOf } from "../storage/blobs.ts";
import { ensureDir } from "../storage/paths.ts";

/** Podman's default profile, as Debian's golang-github-containers-common installs it. */
export const DEFAULT_SECCOMP_PROFILE = "/usr/share/containers/seccomp.json";

/** The profile value that means no filter. */
export const UNCONFINED = "unconfined";

// Part of the cache key: a compiler that changes its output bumps it.
const COMPILER_VERSION = "1";

function readProfile(file: string): Uint8Array {
  try {
    return Deno.readFileSync(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : (e as Error).message;
    const hint = file === DEFAULT_SECCOMP_PROFILE
      ? " (install the Debian package golang-github-containers-common)"
      : "";
    throw invalid(
      `opening seccomp profile failed: open ${file}: ${why}${hint}`,
    );
  }
}

/**
 * The program for `profile` (a file) and a container whose bounding set is
 * `bounding`: from the cache in `dataDir`, else compiled and cached.
 */
export async function seccompProgram(
  dataDir: string,
  profile: string,
  bounding: string[],
): Promise<Uint8Array> {
  const text = readProfile(profile);
  const key = digestOf(
    [
      digestOf(text),
      [...bounding].sort().join(","),
      Deno.build.arch,
      Deno.osRelease(),
      COMPILER_VERSION,
    ].join("\n"),
  ).slice(7);
  const dir = `${dataDir}/seccomp`;
  const cached = `${dir}/${key}.bpf`;
  try {
    return Deno.readFileSync(cached);
  } catch { /* not compiled yet */ }
  const { compileSeccomp } = await lazy<typeof import("./compile.ts")>(
    new URL("./compile.ts", import.meta.url),
  );
  const program = compileSeccomp(
    new TextDecoder().decode(text),
    profile,
    bounding,
  );
  ensureDir(dir);
  const tmp = `${cached}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeFileSync(tmp, program);
  Deno.renameSync(tmp, cached);
  return program;
}
