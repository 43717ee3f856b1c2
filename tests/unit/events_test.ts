import { assert, assertEquals } from "../assert.ts";
import {
  emitContainerEvent,
  emitEvent,
  eventsFile,
} from "../../src/events/emit.ts";
import { eventText, eventView } from "../../src/events/present.ts";
import {
  eventJson,
  type EventRecord,
  eventRecord,
  eventTime,
} from "../../src/events/record.ts";
import { readEvents } from "../../src/events/reader.ts";

/** Lines Podman 4.3 wrote to its events.log, and printed for them. */
const PODMAN = [
  {
    json:
      '{"ContainerExitCode":137,"ID":"d6c219042d5fcc4d61a13f4997922b7183e6f06b085bd25c34cac94c222e5512","Image":"localhost/bb:latest","Name":"w","Status":"died","Time":"2026-12-06T08:01:51.581811964Z","Type":"container","Attributes":{}}',
    text:
      "2026-12-06 08:01:51.581811964 +0000 UTC container died d6c219042d5fcc4d61a13f4997922b7183e6f06b085bd25c34cac94c222e5512 (image=localhost/bb:latest, name=w)",
  },
  {
    json:
      '{"Name":"bb","Status":"pull","Time":"2026-12-06T08:01:50.975938064Z","Type":"image","Attributes":null}',
    text: "2026-12-06 08:01:50.975938064 +0000 UTC image pull  bb",
  },
  {
    json:
      '{"ID":"f0c382e2018f3fa134dcc5a19e81e83e5829fe0bf592826d622577c96cf48015","Name":"bb2","Status":"tag","Time":"2026-12-06T08:02:08.286501887Z","Type":"image","Attributes":null}',
    text:
      "2026-12-06 08:02:08.286501887 +0000 UTC image tag f0c382e2018f3fa134dcc5a19e81e83e5829fe0bf592826d622577c96cf48015 bb2",
  },
  {
    json:
      '{"Name":"v2","Status":"prune","Time":"2026-12-06T08:02:08.251005544Z","Type":"volume","Attributes":null}',
    text: "2026-12-06 08:02:08.251005544 +0000 UTC volume prune v2",
  },
  {
    json:
      '{"ID":"bdc1c25c924c6ddb641b3a56e347bdb4d47ba4e00e0e865c727f961656254165","Image":"localhost/bb:latest","Name":"h","Status":"health_status","Time":"2026-12-06T08:02:07.045311196Z","Type":"container","health_status":"starting","Attributes":{"a":"b","c":"d"}}',
    text:
      "2026-12-06 08:02:07.045311196 +0000 UTC container health_status bdc1c25c924c6ddb641b3a56e347bdb4d47ba4e00e0e865c727f961656254165 (image=localhost/bb:latest, name=h, health_status=starting, a=b, c=d)",
  },
  {
    json:
      '{"Status":"refresh","Time":"2026-12-06T08:01:50.80943789Z","Type":"system","Attributes":null}',
    text: "2026-12-06 08:01:50.80943789 +0000 UTC system refresh",
  },
];

Deno.test("events: records are Podman's JSON lines, and print as Podman prints them", () => {
  for (const { json, text } of PODMAN) {
    const e = JSON.parse(json) as EventRecord;
    assertEquals(eventJson(e), json);
    assertEquals(eventText(e), text);
  }
  const died = JSON.parse(PODMAN[0].json) as EventRecord;
  assertEquals(
    eventText(died, true),
    "2026-12-06 08:01:51.581811964 +0000 UTC container died d6c219042d5f (image=localhost/bb:latest, name=w)",
  );
});

Deno.test("events: a record made here has Podman's field order and omissions", () => {
  const at = "2026-12-06T08:01:51.5Z";
  const line = (spec: Parameters<typeof eventRecord>[0]) =>
    eventJson(eventRecord(spec, at));
  assertEquals(
    line({
      type: "container",
      action: "died",
      id: "abc",
      name: "w",
      image: "localhost/bb:latest",
      exitCode: 3,
      attributes: { z: "1", a: "<&>" },
    }),
    '{"ContainerExitCode":3,"ID":"abc","Image":"localhost/bb:latest","Name":"w","Status":"died","Time":"2026-12-06T08:01:51.5Z","Type":"container","Attributes":{"a":"\\u003c\\u0026\\u003e","z":"1"}}',
  );
  // An exit code of 0 is left out, as Go's omitempty does.
  assertEquals(
    line({ type: "container", action: "died", id: "abc", exitCode: 0 }),
    '{"ID":"abc","Status":"died","Time":"2026-12-06T08:01:51.5Z","Type":"container","Attributes":null}',
  );
  assertEquals(
    line({ type: "container", action: "health_status", health: "healthy" }),
    '{"Status":"health_status","Time":"2026-12-06T08:01:51.5Z","Type":"container","health_status":"healthy","Attributes":null}',
  );
});

Deno.test("events: times carry the clock's sub-millisecond digits, trailing zeros cut", () => {
  assertEquals(
    eventTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6) + 0.25),
    "2026-01-02T03:04:05.00625Z",
  );
  assertEquals(
    eventTime(Date.UTC(2026, 0, 2, 3, 4, 5)),
    "2026-01-02T03:04:05Z",
  );
  assert(/^\d{4}-.*\.\d+Z$|Z$/.test(eventTime()));
});

Deno.test("events: a template sees Podman's events.Event", () => {
  const v = eventView(JSON.parse(PODMAN[0].json));
  assertEquals(v.ContainerExitCode, 137);
  assertEquals(v.Time, "2026-12-06 08:01:51.581811964 +0000 UTC");
  assertEquals(v.HealthStatus, "");
  assertEquals(v.Attributes, {});
});

/** Runs `fn` with the runtime dir in a fresh temp dir. */
async function withRuntime(
  fn: (dir: string) => Promise<void>,
  env: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir();
  const saved = { PTD_RUNROOT: Deno.env.get("PTD_RUNROOT") };
  Deno.env.set("PTD_RUNROOT", dir);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    await fn(dir);
  } finally {
    if (saved.PTD_RUNROOT) Deno.env.set("PTD_RUNROOT", saved.PTD_RUNROOT);
    else Deno.env.delete("PTD_RUNROOT");
    await Deno.remove(dir, { recursive: true });
  }
}

const collect = async (it: AsyncIterable<EventRecord>) => {
  const out = [];
  for await (const e of it) out.push(e);
  return out;
};

Deno.test("events: emitted lines are read back, in order, rotation included", async () => {
  await withRuntime(async (dir) => {
    const c = {
      id: "c1",
      name: "web",
      image: "localhost/bb:latest",
      rootfs: false,
      labels: { a: "b" },
    };
    await emitContainerEvent(c, "create");
    await emitEvent({ type: "volume", action: "create", name: "v" });
    const file = eventsFile();
    assertEquals(file, `${dir}/events/events.log`);
    const read = await collect(readEvents(file));
    assertEquals(read.map((e) => [e.Type, e.Status, e.Name]), [
      ["container", "create", "web"],
      ["volume", "create", "v"],
    ]);
    assertEquals(read[0].Attributes, { a: "b" });
    // A file past the limit moves to events.log.1; both are read.
    Deno.writeTextFileSync(file, "x".repeat(2 * 1024 * 1024) + "\n", {
      append: true,
    });
    await emitEvent({ type: "volume", action: "remove", name: "v" });
    assert(Deno.statSync(`${file}.1`).size > 2 * 1024 * 1024);
    await emitEvent({ type: "volume", action: "prune", name: "v" });
    assertEquals(
      (await collect(readEvents(file))).map((e) => e.Status),
      ["create", "create", "remove", "prune"],
    );
    // Times select.
    const since = Date.now() + 60_000;
    assertEquals((await collect(readEvents(file, { since }))).length, 0);
  });
});

Deno.test("events: following sees what another writer appends, a torn line once whole", async () => {
  await withRuntime(async (dir) => {
    const file = `${dir}/events.log`;
    Deno.writeTextFileSync(
      file,
      eventJson(
        eventRecord({ type: "volume", action: "create", name: "old" }),
      ) + "\n",
    );
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (
        const e of readEvents(file, {
          follow: true,
          signal: stop.signal,
          pollMs: 10,
        })
      ) {
        seen.push(e.Name!);
        if (seen.length === 2) stop.abort();
      }
    })();
    await new Promise((ok) => setTimeout(ok, 50));
    const line = eventJson(
      eventRecord({ type: "volume", action: "create", name: "new" }),
    ) + "\n";
    Deno.writeTextFileSync(file, line.slice(0, 20), { append: true });
    await new Promise((ok) => setTimeout(ok, 50));
    Deno.writeTextFileSync(file, line.slice(20), { append: true });
    // A rotation: the new file is read from its start.
    await new Promise((ok) => setTimeout(ok, 50));
    Deno.renameSync(file, `${file}.1`);
    Deno.writeTextFileSync(
      file,
      eventJson(
        eventRecord({ type: "volume", action: "create", name: "rotated" }),
      ) + "\n",
    );
    await reading;
    // Without --since, a stream starts at the end: "old" is not shown.
    assertEquals(seen, ["new", "rotated"]);
  });
});

Deno.test("events: the none backend writes nothing", async () => {
  const { BACKEND_ENV } = await import("../../src/events/record.ts");
  // eventsSetup is resolved once per process: a child process checks it.
  await withRuntime(async (dir) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { emitEvent } from "${new URL(
          "../../src/events/emit.ts",
          import.meta.url,
        )}";
         await emitEvent({ type: "volume", action: "create", name: "v" });`,
      ],
      env: {
        PTD_RUNROOT: dir,
        [BACKEND_ENV]: "none",
        CONTAINERS_CONF: "/dev/null",
      },
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(
      [...Deno.readDirSync(dir)].some((e) => e.name === "events"),
      false,
    );
  });
});

Deno.test("events: concurrent writers never tear or lose a line", async () => {
  await withRuntime(async (dir) => {
    const emit = new URL("../../src/events/emit.ts", import.meta.url);
    const writer = (n: number) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { emitEvent } from "${emit}";
           for (let i = 0; i < 100; i++) {
             await emitEvent({ type: "volume", action: "create", name: "w${n}-" + i + "-" + "x".repeat(500) });
           }`,
        ],
        env: { PTD_RUNROOT: dir, CONTAINERS_CONF: "/dev/null" },
      }).output();
    // 400 lines of ~600 bytes stay under the 1 MiB limit: one file.
    const outs = await Promise.all([1, 2, 3, 4].map(writer));
    for (const o of outs) {
      assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
    }
    const lines = Deno.readTextFileSync(`${dir}/events/events.log`).split("\n")
      .filter(Boolean);
    assertEquals(lines.length, 400);
    for (const l of lines) JSON.parse(l);
    const events = await collect(readEvents(`${dir}/events/events.log`));
    assertEquals(new Set(events.map((e) => e.Name)).size, 400);
  });
});

Deno.test("events: --events-backend journald is refused, file and none pass on", async () => {
  const { applyGlobals } = await import("../../src/cli/globals.ts");
  const { BACKEND_ENV } = await import("../../src/events/record.ts");
  const err = await applyGlobals({ eventsBackend: "journald" }).then(
    () => undefined,
    (e) => e,
  );
  assertEquals(
    [err?.message, err?.exitCode],
    [
      "--events-backend journald: ptd keeps events in a file only (file or none)",
      125,
    ],
  );
  const saved = Deno.env.get(BACKEND_ENV);
  try {
    await applyGlobals({ eventsBackend: "none" });
    assertEquals(Deno.env.get(BACKEND_ENV), "none");
  } finally {
    if (saved === undefined) Deno.env.delete(BACKEND_ENV);
    else Deno.env.set(BACKEND_ENV, saved);
  }
});
