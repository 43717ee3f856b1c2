/**
 * systemd units in the guest, as its lingering user: a `generate systemd
 * --new` unit that `systemctl --user start` runs and `stop` removes, and
 * that comes back after a reboot once enabled; a Quadlet `.container` file
 * that becomes a service at daemon-reload; a Type=notify unit that is
 * active only once the container says READY=1 (--sdnotify=container).
 * ptd runs with its default store, as a user's units would.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { busyboxRoot, REPO, sleep } from "../helpers.ts";
import { guestTest, requestReboot, sh } from "./guest.ts";

const HOME = Deno.env.get("HOME")!;
const UNITS = `${HOME}/.config/systemd/user`;
const PTD = `${REPO}/bin/ptd`;

/** A busybox root in the home directory (it must outlive the test). */
function webRoot(): string {
  const dir = `${HOME}/web`;
  try {
    Deno.statSync(`${dir}/bbroot`);
    return `${dir}/bbroot`;
  } catch {
    Deno.mkdirSync(dir, { recursive: true });
    return busyboxRoot(dir, ["httpd", "sleep"]);
  }
}

async function ok(cmd: string): Promise<string> {
  const r = await sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.out}`);
  return r.out;
}

const state = (unit: string) =>
  sh(`systemctl --user is-active ${unit}`).then((r) => r.out.trim());

async function waitFor(fn: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(1000);
  }
}

guestTest(
  "guest: generate systemd --new: start runs it, stop removes it, enabled it survives a reboot",
  async () => {
    const root = webRoot();
    await ok(
      `${PTD} create --name web --network none --rootfs ${root} httpd -f -p 80`,
    );
    Deno.mkdirSync(UNITS, { recursive: true });
    const path = (await ok(
      `cd ${UNITS} && ${PTD} generate systemd --new --files --name web`,
    )).trim();
    assertEquals(path, `${UNITS}/container-web.service`);
    assertMatch(Deno.readTextFileSync(path), /^Type=notify$/m);
    await ok(`${PTD} rm web`);
    await ok("systemctl --user daemon-reload");
    await ok("systemctl --user start container-web.service");
    assertEquals(await state("container-web.service"), "active");
    const info = JSON.parse(await ok(`${PTD} inspect web`))[0];
    assertEquals(info.State.Status, "running");
    // systemd follows the monitor: the container is in a cgroup of its own.
    const main =
      (await ok("systemctl --user show -P MainPID container-web.service"))
        .trim();
    assertEquals(Number(main), info.State.ConmonPid);
    await ok("systemctl --user stop container-web.service");
    assertEquals((await ok(`${PTD} ps -a --format '{{.Names}}'`)).trim(), "");
    await ok("systemctl --user enable container-web.service");
    requestReboot();
  },
);

guestTest(
  "guest: an enabled unit of a lingering user comes back after a reboot",
  async () => {
    await waitFor(
      async () => (await state("container-web.service")) === "active",
      120_000,
    );
    const info = JSON.parse(await ok(`${PTD} inspect web`))[0];
    assertEquals(info.State.Status, "running");
  },
  2,
);

guestTest(
  "guest: a Quadlet .container file becomes a running service at daemon-reload",
  async () => {
    const root = webRoot();
    const dir = `${HOME}/.config/containers/systemd`;
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/qweb.container`,
      `[Unit]\nDescription=Quadlet web\n\n[Container]\nContainerName=qweb\nRootfs=${root}\nNetwork=none\nExec=httpd -f -p 80\n`,
    );
    await ok("systemctl --user daemon-reload");
    await ok("systemctl --user start qweb.service");
    assertEquals(await state("qweb.service"), "active");
    const info = JSON.parse(await ok(`${PTD} inspect qweb`))[0];
    assertEquals(info.State.Status, "running");
    await ok("systemctl --user stop qweb.service");
    assertEquals((await sh(`${PTD} inspect qweb`)).code, 125);
  },
);

guestTest(
  "guest: a Type=notify unit with --sdnotify=container is active only once the container signals",
  async () => {
    const root = webRoot();
    // systemd-notify and its libraries, for the container to signal with.
    await ok(
      `cd ${root} && for f in /usr/bin/systemd-notify $(ldd /usr/bin/systemd-notify | grep -o '/[^ ]*'); do cp --parents -L "$f" .; done`,
    );
    await ok(
      `${PTD} create --name ready --network none --sdnotify=container --rootfs ${root} sh -c 'sleep 12; systemd-notify --ready; exec sleep 600'`,
    );
    await ok(
      `cd ${UNITS} && ${PTD} generate systemd --new --files --name ready`,
    );
    await ok(`${PTD} rm ready`);
    await ok("systemctl --user daemon-reload");
    await ok("systemctl --user start --no-block container-ready.service");
    await waitFor(
      async () =>
        (await sh(`${PTD} inspect --format '{{.State.Status}}' ready`)).out
          .trim() === "running",
      60_000,
    );
    const started = Date.now();
    assertEquals(await state("container-ready.service"), "activating");
    await waitFor(
      async () => (await state("container-ready.service")) === "active",
      60_000,
    );
    assert(
      Date.now() - started > 2000,
      "active before the container signalled",
    );
    await ok("systemctl --user stop container-ready.service");
  },
);
