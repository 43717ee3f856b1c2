/**
 * Each container's seccomp program, as Podman gives it: the profile
 * containers.conf names (containers-common's seccomp.json by default) or
 * `--security-opt seccomp=FILE`, compiled for the container's bounding set.
 * A compiled program is cached under the store, keyed by the profile's
 * digest, the capability set, the machine and the kernel, so that a `run`
 * finds it by one look-up instead of compiling, and its container names
 * the cached file (never changed once written) instead of keeping a copy.
 */
import { capNumber } from "../runtime/caps.ts";
import { invalid } from "../runtime/errors.ts";
import { lazy, repoPath } from "../runtime/lazy.ts";
import { ensureDir } from "../storage/paths.ts";

/** Podman's default profile, as Debian's golang-github-containers-common installs it. */
export const DEFAULT_SECCOMP_PROFILE = "/usr/share/containers/seccomp.json";

/**
 * The same rules, kept by ptd (scripts/gen_default_seccomp.ts), for a host
 * without containers-common: Podman uses the copy built into it then.
 */
const BUILT_IN = repoPath("src/security/default_seccomp.json");

/**
 * The file to read for `profile`: ptd's copy of the default rules when
 * the default file (`defaultFile`) is missing, else the profile itself.
 */
export function profileFile(
  profile: string,
  defaultFile = DEFAULT_SECCOMP_PROFILE,
): string {
  if (profile !== defaultFile) return profile;
  try {
    Deno.statSync(profile);
    return profile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return BUILT_IN;
    throw e;
  }
}

/** The profile value that means no filter. */
export const UNCONFINED = "unconfined";

// Part of the cache key: a compiler that changes its output bumps it.
const VERSION = "2";

/** Podman's error for a profile that cannot be read. */
function unreadable(file: string, e: unknown): Error {
  const why = e instanceof Deno.errors.NotFound
    ? "no such file or directory"
    : (e as Error).message;
  return invalid(`opening seccomp profile failed: open ${file}: ${why}`);
}

async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What besides the profile decides the program. */
function context(bounding: string[]): string {
  const mask = bounding.reduce((m, c) => m | 1n << BigInt(capNumber(c)), 0n);
  return [mask.toString(16), Deno.build.arch, Deno.osRelease(), VERSION]
    .join("-");
}

/**
 * The file of the program for `profile` (a file) and a container whose
 * bounding set is `bounding`: in the cache in `dataDir`, compiled first
 * when it is not there. The cache is keyed by the profile's digest; a
 * link named after the file's identity (device, inode, size, change time)
 * leads to it, so that a `run` with a known profile resolves one link and
 * reads and hashes nothing (a cold process pays milliseconds for a digest
 * of the default profile's 30 kB).
 */
export async function seccompProgram(
  dataDir: string,
  profile: string,
  bounding: string[],
): Promise<string> {
  const dir = `${dataDir}/seccomp`;
  let st: Deno.FileInfo;
  try {
    profile = profileFile(profile);
    st = Deno.statSync(profile);
  } catch (e) {
    throw unreadable(profile, e);
  }
  const ctx = context(bounding);
  const link =
    `${dir}/file-${st.dev}-${st.ino}-${st.size}-${st.ctime?.getTime()}-${ctx}`;
  try {
    // Programs are never removed (but with the whole store): the link's
    // target is there.
    return `${dir}/${Deno.readLinkSync(link)}`;
  } catch { /* a profile file not seen yet */ }
  let text: Uint8Array<ArrayBuffer>;
  try {
    text = Deno.readFileSync(profile);
  } catch (e) {
    throw unreadable(profile, e);
  }
  const key = await sha256Hex(text);
  const cached = `${dir}/${key}-${ctx}.bpf`;
  try {
    Deno.statSync(cached);
  } catch {
    const { compileSeccomp } = await lazy<typeof import("./compile.ts")>(
      "src/security/compile.ts",
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
  }
  try {
    Deno.symlinkSync(cached.slice(dir.length + 1), link);
  } catch { /* another process linked it first */ }
  return cached;
}
