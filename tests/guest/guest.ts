/**
 * What the guest tier's tests share: they run only in the qemu guest of
 * scripts/guest/run.sh (PTD_GUEST=1), where a lingering user's systemd
 * manager delegates a cgroup v2 subtree; on the host they are ignored.
 * The guest boots once (phase 1), and a second time from the same disk
 * (phase 2) when a test of phase 1 asked for it with `requestReboot`.
 */

/** True inside the guest of the systemd test tier. */
export const IN_GUEST = Deno.env.get("PTD_GUEST") === "1";

const PHASE = Number(Deno.env.get("PTD_GUEST_PHASE") ?? "1");

/**
 * True in the guest's second pass of a boot, run from a login session of
 * the user (su -l): outside user@UID.service's delegated subtree.
 */
const IN_SESSION = Deno.env.get("PTD_GUEST_SESSION") === "1";

/** Deno.test, run only in the guest, in boot `phase`. */
export function guestTest(
  name: string,
  fn: () => Promise<void>,
  phase = 1,
): void {
  Deno.test({ name, ignore: !IN_GUEST || IN_SESSION || phase !== PHASE, fn });
}

/** Deno.test, run only in the guest's login-session pass of boot 1. */
export function sessionTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !IN_GUEST || !IN_SESSION || PHASE !== 1, fn });
}

/** Asks scripts/guest for a second boot, with the tests of phase 2. */
export function requestReboot(): void {
  Deno.writeTextFileSync(`${Deno.env.get("HOME")}/.ptd-guest-reboot`, "");
}

/** Runs a command; its exit code and output. */
export async function sh(
  cmd: string,
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("sh", {
    args: ["-c", cmd],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    out: dec.decode(r.stdout) + dec.decode(r.stderr),
  };
}
