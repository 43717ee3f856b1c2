/**
 * ptd's own D-Bus client against a real dbus-daemon (a private bus of the
 * test's own): authentication, Hello, a reply with an array, and
 * StartTransientUnit's message (variants, nested arrays), which the daemon
 * validates against its signature before it answers that no systemd is
 * there. The scope itself is made in the guest tier (tests/guest).
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { Bus } from "../../src/cgroup/dbus.ts";

const DBUS = {
  dest: "org.freedesktop.DBus",
  path: "/org/freedesktop/DBus",
  iface: "org.freedesktop.DBus",
};
import {
  containerScope,
  slicePath,
  startScope,
  userBusPath,
} from "../../src/cgroup/systemd_scope.ts";

async function withBus(fn: (path: string) => Promise<void>) {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/bus`;
  // No service directories: nothing is activated for systemd's name.
  Deno.writeTextFileSync(
    `${dir}/bus.conf`,
    `<busconfig><type>session</type><listen>unix:path=${path}</listen><auth>EXTERNAL</auth><policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy></busconfig>`,
  );
  const daemon = new Deno.Command("dbus-daemon", {
    args: ["--config-file", `${dir}/bus.conf`, "--nofork", "--nopidfile"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Until it accepts: the socket file appears at bind, before listen.
    for (let i = 0; i < 200; i++) {
      try {
        (await Deno.connect({ transport: "unix", path })).close();
        break;
      } catch { /* not yet */ }
      await new Promise((ok) => setTimeout(ok, 10));
    }
    await fn(path);
  } finally {
    daemon.kill();
    await daemon.status;
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("dbus: a call and its reply; StartTransientUnit is a valid message", () =>
  withBus(async (path) => {
    const bus = await Bus.connect(path);
    try {
      const [names] = await bus.call({ ...DBUS, member: "ListNames" }) as [
        string[],
      ];
      assert(names.includes("org.freedesktop.DBus"), String(names));
      const [owner] = await bus.call({
        ...DBUS,
        member: "NameHasOwner",
        sig: "s",
        args: ["org.freedesktop.systemd1"],
      });
      assertEquals(owner, false);
    } finally {
      bus.close();
    }
    // A malformed body would make the daemon drop us instead of answering.
    await assertRejects(
      () => startScope(path, containerScope("c0ffee"), 1, "ptd container"),
      /^cannot create the scope ptd-c0ffee\.scope through systemd: org\.freedesktop\.DBus\.Error\.ServiceUnknown: /,
    );
  }));

Deno.test("dbus: the user's bus from the environment; slices as systemd nests them", () => {
  const dir = Deno.makeTempDirSync();
  const saved = ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"].map((k) =>
    [k, Deno.env.get(k)] as const
  );
  const listener = Deno.listen({ transport: "unix", path: `${dir}/bus` });
  try {
    Deno.env.set("DBUS_SESSION_BUS_ADDRESS", `unix:path=${dir}/bus,guid=00`);
    assertEquals(userBusPath(), `${dir}/bus`);
    Deno.env.delete("DBUS_SESSION_BUS_ADDRESS");
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    assertEquals(userBusPath(), `${dir}/bus`);
    Deno.env.set("XDG_RUNTIME_DIR", `${dir}/none`);
    assertEquals(userBusPath(), undefined);
  } finally {
    listener.close();
    for (const [k, v] of saved) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
    Deno.removeSync(dir, { recursive: true });
  }
  assertEquals(slicePath("user.slice"), "user.slice");
  assertEquals(slicePath("a-b-c.slice"), "a.slice/a-b.slice/a-b-c.slice");
});
