import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  displayTime,
  localTime,
  parseRecord,
  recordEncoder,
  utcTime,
} from "../../src/container/log.ts";
import { logFiles, LogWriter } from "../../src/container/log_writer.ts";
import { followLog } from "../../src/container/log_reader.ts";
import {
  humanLogSize,
  parseLogOpts,
  parseLogSize,
} from "../../src/container/log_driver.ts";

const enc = new TextEncoder(), dec = new TextDecoder();
const str = (b?: Uint8Array) => dec.decode(b);
/** Runs `fn` with a fresh directory, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const T = Date.parse("2024-01-01T00:00:00.123Z") + 0.456;

Deno.test("log: times as conmon writes them and Go prints them", () => {
  assertEquals(utcTime(T), "2024-01-01T00:00:00.123456000Z");
  // The test runner's zone is the host's: compare through a parse.
  assertEquals(
    Date.parse(localTime(T).replace(/(\.\d{3})\d+/, "$1")),
    Math.floor(T),
  );
  // logs -t: Go's RFC3339Nano, trailing zeros dropped, in local time.
  const d = displayTime("2024-01-01T00:00:00.120000000+00:00");
  assertEquals(Date.parse(d), Date.parse("2024-01-01T00:00:00.120Z"));
  assertEquals(/:00\.12(Z|[+-]\d\d:\d\d)$/.test(d), true);
});

Deno.test("log: k8s-file records, full and partial, as bytes came", () => {
  const e = recordEncoder("k8s-file", "stdout");
  const out = e.encode(enc.encode("a\nbc\nprompt> "), T);
  const text = dec.decode(out.data);
  const t = localTime(T);
  assertEquals(
    text,
    `${t} stdout F a\n${t} stdout F bc\n${t} stdout P prompt> \n`,
  );
  assertEquals(out.ends, [
    text.indexOf("\n") + 1,
    text.indexOf("bc\n") + 3,
    text.length,
  ]);
  assertEquals(e.encode(new Uint8Array(), T).ends, []);
  const parsed = parseRecord(enc.encode(`${t} stderr F x y`));
  assertEquals({ ...parsed, text: str(parsed?.text) }, {
    time: t,
    stream: "stderr",
    partial: false,
    text: "x y",
  });
  assertEquals(parseRecord(enc.encode(`${t} stdout P p`))?.partial, true);
  for (const bad of ["garbage", `${t} stdin F x`, `${t} stdout X x`]) {
    assertEquals(parseRecord(enc.encode(bad)), undefined);
  }
});

Deno.test("log: json-file records in Docker's form; a cut character waits", () => {
  const e = recordEncoder("json-file", "stderr");
  const euro = enc.encode("€");
  const first = e.encode(new Uint8Array([...enc.encode("x\n"), euro[0]]), T);
  const lines = dec.decode(first.data).split("\n").filter(Boolean);
  assertEquals(lines.map((l) => JSON.parse(l)), [{
    log: "x\n",
    stream: "stderr",
    time: "2024-01-01T00:00:00.123456000Z",
  }]);
  const rest = dec.decode(e.encode(euro.subarray(1), T).data);
  assertEquals(JSON.parse(rest).log, "€");
  assertEquals(
    parseRecord(enc.encode(rest.trim()), "json-file")?.partial,
    true,
  );
  assertEquals(str(parseRecord(enc.encode(lines[0]), "json-file")?.text), "x");
  assertEquals(parseRecord(enc.encode("{}"), "json-file"), undefined);
});

Deno.test("log: rotation keeps the newest records, max-file old files", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/ctr.log`;
    const w = new LogWriter(path, "k8s-file", { maxSize: 400, maxFile: 2 });
    for (let i = 0; i < 100; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    w.write(
      "stdout",
      enc.encode(Array.from({ length: 30 }, (_, i) => `b${i}\n`).join("")),
    );
    w.close();
    const files = logFiles(path, 2);
    for (const f of files) {
      const size = Deno.statSync(f).size;
      if (size > 400) throw new Error(`${f}: ${size} bytes`);
    }
    assertThrows(() => Deno.statSync(`${path}.3`));
    const texts = [];
    for await (
      const r of followLog(
        { path, format: "k8s-file", maxFile: 2 },
        {},
        () => Promise.resolve(false),
      )
    ) {
      texts.push(str(r.text));
    }
    assertEquals(texts.at(-1), "b29");
    // What is kept is an unbroken run up to the last line.
    const all = [
      ...Array.from({ length: 100 }, (_, i) => `line ${i}`),
      ...Array.from({ length: 30 }, (_, i) => `b${i}`),
    ];
    assertEquals(texts, all.slice(all.length - texts.length));
    assertEquals(texts.length > 12, true);
  }));

Deno.test("log: --tail counts lines as Podman 4.3 does", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/ctr.log`;
    const w = new LogWriter(path, "json-file");
    w.write("stdout", enc.encode("a\npart"));
    w.write("stderr", enc.encode("b\n"));
    w.write("stdout", enc.encode("c\nopen"));
    w.close();
    const read = async (tail?: number) => {
      const out = [];
      for await (
        const r of followLog(
          { path, format: "json-file" },
          { tail },
          () => Promise.resolve(false),
        )
      ) {
        out.push(str(r.text) + (r.partial ? "" : "|"));
      }
      return out.join("");
    };
    assertEquals(await read(), "a|partb|c|open");
    // A full record and the partial ones after it are one line.
    assertEquals(await read(2), "b|copen|");
    assertEquals(await read(9), "apart|b|copen|");
    assertEquals(await read(0), "");
  }));

Deno.test("log: --log-opt as Podman reads it", () => {
  assertEquals(parseLogSize("5.039m"), 5039000);
  assertEquals(parseLogSize("1.5kb"), 1500);
  assertEquals(parseLogSize("2MiB"), 2000000);
  assertEquals(parseLogSize("100"), 100);
  assertThrows(() => parseLogSize("abc"), /invalid size: 'abc'/);
  assertEquals(
    parseLogOpts([
      "max-size=1m",
      "max-file=3",
      "path=/tmp/x.log",
      "tag=web",
      "other=1",
    ]),
    {
      logMaxSize: 1000000,
      logMaxFile: 3,
      logPath: "/tmp/x.log",
      logTag: "web",
    },
  );
  assertThrows(
    () => parseLogOpts(["max-size"]),
    /invalid log option "max-size"/,
  );
  assertThrows(() => parseLogOpts(["max-file=0"]));
  assertThrows(() => parseLogOpts(["path=rel.log"]));
  assertEquals([
    humanLogSize(0),
    humanLogSize(5039000),
    humanLogSize(1500),
    humanLogSize(100),
  ], ["0B", "5.039MB", "1.5kB", "100B"]);
});

Deno.test("log: logs -f reads on through the writer's rotations", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/ctr.log`;
    const w = new LogWriter(path, "k8s-file", { maxSize: 300 });
    let n = 0;
    const write = (count: number) => {
      for (let i = 0; i < count; i++) {
        w.write("stdout", enc.encode(`l${n++}\n`));
      }
    };
    write(3);
    let polls = 0;
    // Each poll: a few lines, rotating the file about every other poll.
    const more = () => {
      if (++polls > 12) return Promise.resolve(false);
      write(4);
      return Promise.resolve(true);
    };
    const seen = [];
    for await (
      const r of followLog({ path, format: "k8s-file" }, {}, more, 1)
    ) {
      seen.push(str(r.text));
    }
    w.close();
    assertEquals(seen, Array.from({ length: n }, (_, i) => `l${i}`));
    assert(Deno.statSync(`${path}.1`).size > 0);
  }));

Deno.test("log: k8s-file keeps the bytes: a character cut between two records comes out whole", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/ctr.log`;
    const w = new LogWriter(path, "k8s-file");
    const euro = enc.encode("€");
    w.write("stdout", new Uint8Array([0x61, euro[0]]));
    w.write("stdout", new Uint8Array([...euro.subarray(1), 0xff, 10]));
    w.close();
    const bytes: number[] = [];
    for await (
      const r of followLog(
        { path, format: "k8s-file" },
        {},
        () => Promise.resolve(false),
      )
    ) {
      bytes.push(...r.text);
    }
    assertEquals(bytes, [0x61, ...euro, 0xff]);
  }));
