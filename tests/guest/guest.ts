/**
 * What the guest tier's tests share: they run only in the qemu guest of
 * scripts/guest/run.sh (PTD_GUEST=1), where a lingering user's systemd
 * manager delegates a cgroup v2 subtree; on the host they are ignored.
 */

/** True inside the guest of the systemd test tier. */
export const IN_GUEST = Deno.env.get("PTD_GUEST") === "1";

/** Deno.test, run only in the guest. */
export function guestTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !IN_GUEST, fn });
}

/** The cgroup v2 directory of this process. */
export function ownCgroup(): string {
  const line = Deno.readTextFileSync("/proc/self/cgroup").split("\n")
    .find((l) => l.startsWith("0::"))!;
  return `/sys/fs/cgroup${line.slice(3)}`;
}
