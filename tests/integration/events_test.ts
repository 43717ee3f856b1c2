/**
 * `ptd events` over real runs: what a container's life writes (from the
 * CLI and from its monitor), following the file while another process
 * writes, and the same lines as Podman 4.3's for the same acts.
 */
import { assert, assertEquals } from "../assert.ts";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import { ok, ptd, ptdCommand, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, sideBySide } from "../podman.ts";
import type { EventRecord } from "../../src/events/record.ts";

const IMAGE = "localhost/bb:latest";

const jsonLines = (text: string) =>
  text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as EventRecord);

Deno.test("events: a run's pull, create, start, died with its code and remove, by name", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const run = await ptd(sb, [
      "run",
      "--rm",
      "--name",
      "evt",
      "-l",
      "k=v",
      IMAGE,
      "sh",
      "-c",
      "exit 3",
    ]);
    assertEquals(run.code, 3, run.stderr);
    ok(
      await ptd(sb, [
        "run",
        "-d",
        "--name",
        "det",
        IMAGE,
        "sh",
        "-c",
        "exit 4",
      ]),
    );
    assertEquals(ok(await ptd(sb, ["wait", "det"])), "4");
    ok(await ptd(sb, ["rm", "det"]));
    const events = jsonLines(ok(
      await ptd(sb, [
        "events",
        "--since",
        "1m",
        "--stream=false",
        "--format",
        "json",
      ]),
    ));
    const of = (name: string) =>
      events.filter((e) => e.Name === name).map((e) =>
        `${e.Type} ${e.Status}${
          e.ContainerExitCode ? ` ${e.ContainerExitCode}` : ""
        }`
      );
    assertEquals(of("evt"), [
      "container create",
      "container init",
      "container start",
      "container attach",
      "container died 3",
      "container remove",
    ]);
    // Its monitor, not the CLI, tells of a detached container's end.
    assertEquals(of("det"), [
      "container create",
      "container init",
      "container start",
      "container died 4",
      "container remove",
    ]);
    assertEquals(of(IMAGE), ["image pull", "image pull"]);
    const evt = events.find((e) => e.Name === "evt")!;
    assertEquals(evt.Image, IMAGE);
    assertEquals(evt.Attributes, { k: "v" });
    // Filters: one key's values are alternatives, keys all hold.
    const died = ok(
      await ptd(sb, [
        "events",
        "--stream=false",
        "--filter",
        "event=died",
        "--filter",
        "container=evt",
        "--filter",
        "container=det",
        "--format",
        "{{.Name}} {{.ContainerExitCode}}",
      ]),
    );
    assertEquals(died, "evt 3\ndet 4");
    const none = await ptd(sb, ["events", "--stream=false", "--until", "1h"]);
    assertEquals(none.stdout, "");
  });
});

Deno.test("events: a stream follows the events another process writes", async () => {
  await withSandbox(async (sb) => {
    const since = new Date().toISOString();
    ok(await ptd(sb, ["volume", "create", "first"]));
    const child = ptdCommand(sb, [
      "events",
      "--since",
      since,
      "--format",
      "{{.Type}} {{.Status}} {{.Name}}",
    ]).spawn();
    const lines: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let buf = "";
    const next = async () => {
      while (!buf.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`events ended: ${lines.join("|")}`);
        buf += value;
      }
      const i = buf.indexOf("\n");
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      return line;
    };
    try {
      // The past event shows once the stream reads the file...
      assertEquals(await next(), "volume create first");
      // ...and what another process writes after it comes as it is written.
      ok(await ptd(sb, ["volume", "create", "second"]));
      assertEquals(await next(), "volume create second");
      ok(await ptd(sb, ["volume", "rm", "second"]));
      assertEquals(await next(), "volume remove second");
    } finally {
      child.kill();
      await reader.cancel();
      await child.status;
      child.stderr.cancel();
    }
  });
});

Deno.test("events: the same lines as Podman's for the same acts", async () => {
  if (!hasPodman()) return;
  await withSandbox(async (sb) => {
    await storeBusyboxForBoth(sb, IMAGE);
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      const out: Record<string, string[]> = {};
      for (const [name, run] of Object.entries(engines)) {
        const flags = name === "podman" ? ["--events-backend", "file"] : [];
        const go = async (args: string[]) => await run([...flags, ...args]);
        await go([
          "run",
          "--name",
          "dd",
          "-l",
          "a=1",
          IMAGE,
          "sh",
          "-c",
          "exit 3",
        ]);
        await go(["rm", "dd"]);
        await go(["volume", "create", "vv"]);
        await go(["volume", "rm", "vv"]);
        const filters = [
          "create",
          "init",
          "start",
          "attach",
          "died",
          "remove",
          "pull",
        ]
          .flatMap((e) => ["--filter", `event=${e}`]);
        const lines: string[] = [];
        for (const format of [[], ["--format", "json"]]) {
          const r = await go([
            "events",
            "--stream=false",
            ...filters,
            ...format,
          ]);
          assertEquals(r.code, 0, `${name}: ${r.stderr}`);
          lines.push(...r.stdout.split("\n").filter(Boolean));
        }
        out[name] = lines
          .filter((l) =>
            !/"Type":"image"|image pull/.test(l) || l.includes("pull")
          )
          .map((l) =>
            l.replace(/\b[0-9a-f]{64}\b/g, "ID")
              .replace(/\d{4}-\d\d-\d\d[ T][\d:.]+( \+0000 UTC|Z)/g, "TIME")
          )
          // Podman writes a run's pull after its create.
          .sort();
      }
      // One label: Podman's human line lists several in Go's map order,
      // which is random.
      assertEquals(out.ptd, out.podman);
      assert(out.ptd.some((l) => l.includes('"ContainerExitCode":3')));
    });
  });
});
