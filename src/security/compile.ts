/**
 * From a profile's text to the bytes ptd loads: the profile read, narrowed to
 * one container and compiled. Loaded only when the cache (seccomp.ts) misses:
 * the syscall tables and the compiler stay out of an ordinary `run`.
 */
import { compileProfile } from "./bpf.ts";
import { parseProfile, resolveProfile } from "./seccomp_profile.ts";

/**
 * The program for a container with bounding set `bounding`: seccomp(2)'s
 * flags as 4 little-endian bytes, then the sock_filter entries.
 */
export function compileSeccomp(
  text: string,
  file: string,
  bounding: string[],
): Uint8Array {
  const resolved = resolveProfile(
    parseProfile(text, file),
    bounding,
    Deno.build.arch,
    Deno.osRelease(),
  );
  const filter = compileProfile(resolved);
  const out = new Uint8Array(4 + filter.length);
  new DataView(out.buffer).setUint32(0, resolved.flags, true);
  out.set(filter, 4);
  return out;
}
