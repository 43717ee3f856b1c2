/**
 * A container's cgroup made by the user's systemd manager (Podman's
 * `--cgroup-manager systemd`): a transient scope, ptd-ID.scope in
 * user.slice (or the --cgroup-parent slice) of user@UID.service, asked for
 * over the user's D-Bus with the container's first process in it and
 * Delegate=yes. systemd moves the process, even when ptd runs outside the
 * user's delegated subtree (a login session's scope): the user manager
 * hands the move to the system manager when it may not do it itself.
 */
import type { Bus, Message, Variant } from "./dbus.ts";
import { lazy } from "../runtime/lazy.ts";

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER = `${SYSTEMD}.Manager`;

/** Where a container's scope goes, and its cgroup directory below `root`. */
export interface ScopePlan {
  name: string;
  slice: string;
}

/** The slice's path in the hierarchy: a-b.slice is a.slice/a-b.slice. */
export function slicePath(slice: string): string {
  const parts = slice.replace(/\.slice$/, "").split("-");
  return parts.map((_, i) => `${parts.slice(0, i + 1).join("-")}.slice`)
    .join("/");
}

/** The scope of container `id` in `slice` (user.slice by default). */
export function containerScope(id: string, slice = "user.slice"): ScopePlan {
  return { name: `ptd-${id}.scope`, slice };
}

/**
 * Starts the scope `plan` with process `pid` in it over the bus at
 * `busPath`, and waits for systemd to finish the job.
 */
export async function startScope(
  busPath: string,
  plan: ScopePlan,
  pid: number,
  description: string,
): Promise<void> {
  // Loaded only by a parent that starts a container under systemd.
  const { Bus } = await lazy<typeof import("./dbus.ts")>(
    "src/cgroup/dbus.ts",
  );
  let bus: Bus | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      (async () => {
        bus = await Bus.connect(busPath);
        await runJob(bus, plan, pid, description);
      })(),
      new Promise<never>((_, fail) =>
        timer = setTimeout(
          () => fail(new Error("systemd did not answer within 30 s")),
          30_000,
        )
      ),
    ]);
  } catch (e) {
    throw new Error(
      `cannot create the scope ${plan.name} through systemd: ${
        (e as Error).message
      }`,
    );
  } finally {
    clearTimeout(timer);
    (bus as Bus | undefined)?.close();
  }
}

async function runJob(
  bus: Bus,
  plan: ScopePlan,
  pid: number,
  description: string,
): Promise<void> {
  await bus.addMatch(
    `type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`,
  );
  const removed = new Map<string, string>();
  const onSignal = (m: Message) => {
    if (m.member === "JobRemoved") {
      removed.set(m.body[1] as string, m.body[3] as string);
    }
  };
  const props: [string, Variant][] = [
    ["Description", ["s", description]],
    ["Slice", ["s", plan.slice]],
    ["Delegate", ["b", true]],
    ["PIDs", ["au", [pid]]],
    ["DefaultDependencies", ["b", false]],
    // A scope that failed (an OOM kill) goes too, not left for reset-failed.
    ["CollectMode", ["s", "inactive-or-failed"]],
  ];
  const [job] = await bus.call({
    dest: SYSTEMD,
    path: "/org/freedesktop/systemd1",
    iface: MANAGER,
    member: "StartTransientUnit",
    sig: "ssa(sv)a(sa(sv))",
    args: [plan.name, "fail", props, []],
  }, onSignal) as [string];
  while (!removed.has(job)) onSignal(await bus.receive());
  const result = removed.get(job);
  if (result !== "done") throw new Error(`the job ended "${result}"`);
}

/**
 * The address of the user's bus: DBUS_SESSION_BUS_ADDRESS's unix path, or
 * $XDG_RUNTIME_DIR/bus; undefined when there is no socket.
 */
export function userBusPath(): string | undefined {
  const addr = Deno.env.get("DBUS_SESSION_BUS_ADDRESS");
  const fromAddr = addr?.split(";").map((a) =>
    /^unix:(?:.*,)?path=([^,]+)/.exec(a)?.[1]
  ).find((p) => p !== undefined);
  const runtime = Deno.env.get("XDG_RUNTIME_DIR");
  const path = fromAddr ?? (runtime ? `${runtime}/bus` : undefined);
  if (path === undefined) return undefined;
  try {
    return Deno.statSync(path).isSocket ? path : undefined;
  } catch {
    return undefined;
  }
}
