/**
 * Health checks run by a container's own parent, with no systemd: a
 * failing check turns the container unhealthy and --health-on-failure
 * restarts it, a check past its timeout is killed with all it started,
 * the image's HEALTHCHECK applies, and `healthcheck run` answers as
 * Podman's does.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import {
  ok,
  ptd,
  type Sandbox,
  sleep,
  until,
  withSandbox,
} from "../helpers.ts";
import { bothEngines, hasPodman, sideBySide } from "../podman.ts";

const IMAGE = "localhost/bb:latest";

/** `run -d --name NAME FLAGS IMAGE sleep 100`, which must work. */
const runSleeper = async (sb: Sandbox, name: string, flags: string[] = []) =>
  ok(
    await ptd(sb, [
      "run",
      "-d",
      "--name",
      name,
      ...flags,
      IMAGE,
      "sleep",
      "100",
    ]),
  );

const inspect = async (sb: Sandbox, name: string, format: string) =>
  ok(await ptd(sb, ["inspect", name, "--format", format]));

Deno.test("health: a failing check turns unhealthy after its retries, and on-failure=restart restarts it", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    await runSleeper(sb, "sick", [
      "--stop-timeout",
      "1",
      "--health-cmd",
      "echo out; echo err >&2; exit 2",
      "--health-interval",
      "1s",
      "--health-retries",
      "2",
      "--health-on-failure",
      "restart",
    ]);
    const first = await inspect(sb, "sick", "{{.State.StartedAt}}");
    assertStringIncludes(ok(await ptd(sb, ["ps"])), "(starting)");
    // Restarted: running again, from a later start.
    await until(async () =>
      /^[1-9]\d* running$/.test(
        await inspect(sb, "sick", "{{.RestartCount}} {{.State.Status}}"),
      ), 20_000);
    assert(await inspect(sb, "sick", "{{.State.StartedAt}}") !== first);
    const events = ok(
      await ptd(sb, [
        "events",
        "--stream=false",
        "--filter",
        "container=sick",
        "--format",
        "{{.Status}} {{.HealthStatus}}",
      ]),
    ).split("\n").map((e) => e.trimEnd());
    const turned = events.indexOf("health_status unhealthy");
    // Two failures in a row: the second one turns it.
    assertEquals(events.slice(turned - 3, turned + 2), [
      "exec_died",
      "health_status starting",
      "exec_died",
      "health_status unhealthy",
      "restart",
    ]);
    assertEquals(
      events.slice(turned + 2).filter((e) => /^(died|init|start)$/.test(e))
        .slice(0, 3),
      ["died", "init", "start"],
      events.join("|"),
    );
    const log = JSON.parse(
      await inspect(sb, "sick", "{{json .State.Health.Log}}"),
    );
    assertEquals(log[0].ExitCode, 1);
    assertEquals(log[0].Output, "out\nerr");
  });
});

Deno.test("health: on-failure=kill and stop end the container for good, whatever its restart policy", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    for (const action of ["kill", "stop"]) {
      await runSleeper(sb, action, [
        "--restart",
        "always",
        "--stop-timeout",
        "1",
        "--health-cmd",
        "exit 1",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "--health-on-failure",
        action,
      ]);
    }
    for (const action of ["kill", "stop"]) {
      // Not `wait`: it would wait for ever on a container brought back.
      await until(async () =>
        (await inspect(sb, action, "{{.State.Status}}")) === "exited"
      );
      await sleep(1500);
      assertEquals(
        await inspect(
          sb,
          action,
          "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}",
        ),
        "exited 137 0",
      );
      const events = ok(
        await ptd(sb, [
          "events",
          "--stream=false",
          "--filter",
          `container=${action}`,
          "--format",
          "{{.Status}}",
        ]),
      ).split("\n");
      assertEquals(events.slice(-2), [action, "died"]);
    }
  });
});

/** Live processes whose command line passes `test`. */
function processesMatching(test: (cmd: string) => boolean): number[] {
  const out = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (/\) [ZX] /.test(stat)) continue;
      const line = Deno.readTextFileSync(`/proc/${e.name}/cmdline`)
        .replaceAll("\0", " ").trim();
      if (test(line)) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

/** Live processes whose command line is `cmd`. */
const processesRunning = (cmd: string) =>
  processesMatching((line) => line === cmd);

Deno.test("health: a check past its timeout fails and leaves no process", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    await runSleeper(sb, "slow", [
      "--health-cmd",
      "sleep 3741 & sleep 3742",
      "--health-interval",
      "disable",
      "--health-timeout",
      "1s",
    ]);
    const started = Date.now();
    const r = await ptd(sb, ["healthcheck", "run", "slow"]);
    assertEquals([r.code, r.stdout], [1, "unhealthy\n"]);
    assert(Date.now() - started < 10_000);
    assertEquals(processesRunning("sleep 3741"), []);
    assertEquals(processesRunning("sleep 3742"), []);
    const health = JSON.parse(
      await inspect(sb, "slow", "{{json .State.Health}}"),
    );
    assertEquals(health.Status, "starting");
    assertEquals(health.FailingStreak, 1);
    assertEquals(health.Log[0].ExitCode, -1);
    assertEquals(
      health.Log[0].Output,
      "healthcheck command exceeded timeout of 1s",
    );
  });
});

Deno.test("health: a container that ends ends its checks, leaving nothing running", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const id = ok(
      await ptd(sb, [
        "run",
        "-d",
        "--health-cmd",
        "sleep 3743",
        "--health-interval",
        "1s",
        IMAGE,
        "sleep",
        "2",
      ]),
    );
    // A check is under way (its own process, and the command in the container)...
    await until(() => processesRunning("sleep 3743").length > 0);
    const checker = (cmd: string) => cmd.endsWith(`health-check ${id}`);
    assert(processesMatching(checker).length > 0);
    // ...when the container ends: both go with it.
    assertEquals(ok(await ptd(sb, ["wait", id])), "0");
    await until(() =>
      processesRunning("sleep 3743").length === 0 &&
      processesMatching(checker).length === 0
    );
  });
});

Deno.test("health: the image's HEALTHCHECK applies unless overridden; ps and inspect show it", async () => {
  await withSandbox(async (sb) => {
    const img = await storeBusyboxImage(sb, IMAGE);
    // An image built with HEALTHCHECK CMD true (ptd builds none yet).
    const record = `${sb.env.PTD_ROOT}/images/${img.id}.json`;
    const doc = JSON.parse(Deno.readTextFileSync(record));
    doc.config.config.Healthcheck = { Test: ["CMD-SHELL", "echo fine"] };
    Deno.writeTextFileSync(record, JSON.stringify(doc));
    await runSleeper(sb, "img");
    await runSleeper(sb, "off", ["--no-healthcheck"]);
    assertEquals(
      await inspect(sb, "img", "{{json .Config.Healthcheck}}"),
      '{"Test":["CMD-SHELL","echo fine"],"Interval":30000000000,"Timeout":30000000000}',
    );
    assertEquals(
      await inspect(sb, "off", "{{json .Config.Healthcheck}}"),
      '{"Test":["NONE"]}',
    );
    const r = await ptd(sb, ["healthcheck", "run", "img"]);
    assertEquals([r.code, r.stdout], [0, ""]);
    assertEquals(
      await inspect(
        sb,
        "img",
        "{{.State.Health.Status}} {{.State.Health.FailingStreak}}",
      ),
      "healthy 0",
    );
    assertStringIncludes(ok(await ptd(sb, ["ps"])), "(healthy)");
    assertEquals(
      ok(
        await ptd(sb, [
          "ps",
          "--filter",
          "health=healthy",
          "--format",
          "{{.Names}}",
        ]),
      ),
      "img",
    );
    assertEquals((await ptd(sb, ["healthcheck", "run", "off"])).code, 125);
  });
});

Deno.test("health: healthcheck run answers as Podman's", async () => {
  if (!hasPodman()) return;
  await withSandbox(async (sb) => {
    await storeBusyboxForBoth(sb, IMAGE);
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      for (const run of Object.values(engines)) {
        const check = (name: string, cmd: string) =>
          run([
            "run",
            "-d",
            "--name",
            name,
            "--health-cmd",
            cmd,
            IMAGE,
            "sleep",
            "100",
          ]);
        await check("good", "true");
        await check("bad", "exit 3");
        await run(["run", "-d", "--name", "plain", IMAGE, "sleep", "100"]);
        await run([
          "create",
          "--name",
          "made",
          "--health-cmd",
          "true",
          IMAGE,
          "true",
        ]);
      }
      for (const name of ["good", "bad", "plain", "made", "missing"]) {
        const [p, t] = await Promise.all([
          engines.podman(["healthcheck", "run", name]),
          engines.ptd(["healthcheck", "run", name]),
        ]);
        assertEquals([t.code, t.stdout], [p.code, p.stdout], name);
        const said = (s: string) =>
          s.replace(/[0-9a-f]{64}/g, "ID").split("\n").filter((l) =>
            l.startsWith("Error:")
          );
        assertEquals(said(t.stderr), said(p.stderr), name);
      }
    });
  });
});
