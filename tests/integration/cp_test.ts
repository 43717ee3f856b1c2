/**
 * `cp`, `diff`, `export` and multi-image archives, side by side with Podman
 * on the same image (the busybox fixture imported into both): the same
 * command lines must land the same trees and fail with the same words.
 */
import assert from "node:assert/strict";
import { busyboxLayer } from "../fixtures.ts";
import { ptd, ptdCommand, type Sandbox, withSandbox } from "../helpers.ts";
import { hasPodman, podman, podmanOk, stopPodmanPause } from "../podman.ts";

const dec = new TextDecoder();

/** A host tree to copy: a file, a nested dir, a file with mode 0640. */
function hostTree(dir: string) {
  Deno.mkdirSync(`${dir}/d/sub`, { recursive: true });
  Deno.chmodSync(`${dir}/d`, 0o700);
  Deno.writeTextFileSync(`${dir}/f`, "a\n");
  Deno.chmodSync(`${dir}/f`, 0o640);
  Deno.writeTextFileSync(`${dir}/d/sub/g`, "b\n");
}

/** "name mode owner" lines of a tar, sorted, as `tar tv` shows them. */
async function listing(tar: Uint8Array): Promise<string> {
  const p = new Deno.Command("tar", {
    args: ["-tvf", "-", "--numeric-owner"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(tar);
  await w.close();
  const out = dec.decode((await p.output()).stdout);
  return out.split("\n").filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    return `${f[5]} ${f[0]} ${f[1]}`;
  }).sort().join("\n");
}

/** Both engines with the fixture imported as `bb` and a created `c1`. */
function withBoth(fn: (sb: Sandbox, run: Run) => Promise<void>) {
  return withSandbox(async (sb) => {
    const tar = await busyboxLayer(`${sb.dir}/bb.tar`);
    hostTree(`${sb.dir}/h`);
    const run: Run = async (engine, args, stdin) => {
      if (engine === "ptd") {
        const r = await ptd(sb, args, stdin ? { stdin } : {});
        return { code: r.code, stdout: r.stdout, stderr: r.stderr };
      }
      const r = await podman(sb, args, {}, stdin);
      return {
        code: r.code,
        stdout: dec.decode(r.stdout),
        stderr: dec.decode(r.stderr),
      };
    };
    try {
      for (const e of ["ptd", "podman"] as const) {
        assert.equal((await run(e, ["import", tar, "bb"])).code, 0, e);
        const c = await run(e, ["create", "--name", "c1", "bb", "/bin/sh"]);
        assert.equal(c.code, 0, `${e}: ${c.stderr}`);
      }
      await fn(sb, run);
    } finally {
      stopPodmanPause(sb);
    }
  });
}

type Run = (
  engine: "ptd" | "podman",
  args: string[],
  stdin?: Uint8Array,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The tar `cp c1:PATH -` gives, as a listing; both engines must agree. */
async function tree(
  sb: Sandbox,
  engine: "ptd" | "podman",
  path: string,
  ctr = "c1",
) {
  const args = ["cp", `${ctr}:${path}`, "-"];
  const out = engine === "ptd"
    ? (await ptdBytes(sb, args))
    : (await podman(sb, args)).stdout;
  return await listing(out);
}

async function ptdBytes(sb: Sandbox, args: string[]): Promise<Uint8Array> {
  const out = await ptdCommand(sb, args).output();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  return out.stdout;
}

Deno.test("cp into and out of a stopped container lands as podman's", {
  ignore: !hasPodman(),
}, () =>
  withBoth(async (sb, run) => {
    const h = `${sb.dir}/h`;
    const cases: string[][] = [
      [`${h}/f`, "c1:/tmp/"],
      [`${h}/f`, "c1:/tmp/idx.html"], // a new name, dots kept as they are
      [`${h}/d`, "c1:/tmp/"],
      [`${h}/d`, "c1:/tmp/newd"],
      [`${h}/d/.`, "c1:/tmp/dd"],
      [`${h}/d/.`, "c1:/tmp/"], // /tmp keeps its own mode and owner
      [`${h}/f`, "c1:/nonexist/x"],
      [`${h}/f`, "c1:/tmp/nodir/"],
      [`${h}/d`, "c1:/tmp/f"],
      ["c1:/nope", `${h}/`],
    ];
    for (const args of cases) {
      const a = await run("ptd", ["cp", ...args]);
      const b = await run("podman", ["cp", ...args]);
      assert.equal(a.code, b.code, `cp ${args.join(" ")}: ${a.stderr}`);
      assert.equal(a.stderr, b.stderr, `cp ${args.join(" ")}`);
    }
    assert.equal(
      await tree(sb, "ptd", "/tmp"),
      await tree(sb, "podman", "/tmp"),
    );
    assert.match(
      await tree(sb, "ptd", "/tmp"),
      /^tmp\/idx\.html -rw-r----- 0\/0$/m,
    );

    // Files going in belong to the container's primary user.
    for (const e of ["ptd", "podman"] as const) {
      const r = await run(e, [
        "create",
        "--name",
        "cu",
        "-u",
        "1000:1000",
        "bb",
        "/bin/sh",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await run(e, ["cp", `${h}/f`, "cu:/tmp/"])).code, 0);
    }
    const owned = async (e: "ptd" | "podman") =>
      await listing(
        e === "ptd"
          ? await ptdBytes(sb, ["cp", "cu:/tmp/f", "-"])
          : (await podman(sb, ["cp", "cu:/tmp/f", "-"])).stdout,
      );
    assert.equal(await owned("ptd"), "f -rw-r----- 1000/1000");
    assert.equal(await owned("podman"), await owned("ptd"));

    // From one container to another.
    for (const e of ["ptd", "podman"] as const) {
      const r = await run(e, ["cp", "c1:/tmp/d", "cu:/tmp/fromc1"]);
      assert.equal(r.code, 0, `${e}: ${r.stderr}`);
    }
    assert.match(await tree(sb, "ptd", "/tmp/fromc1", "cu"), /fromc1\/sub\/g/);
    assert.equal(
      await tree(sb, "ptd", "/tmp/fromc1", "cu"),
      await tree(sb, "podman", "/tmp/fromc1", "cu"),
    );

    // Out again, to the host: file, new name, dir, dir content.
    for (const e of ["ptd", "podman"] as const) {
      const o = `${sb.dir}/out-${e}`;
      Deno.mkdirSync(o);
      for (
        const [src, dest] of [
          ["/tmp/f", `${o}/`],
          ["/tmp/f", `${o}/renamed.txt`],
          ["/tmp/d", `${o}/`],
          ["/tmp/d/.", `${o}/dd`],
        ]
      ) {
        const r = await run(e, ["cp", `c1:${src}`, dest]);
        assert.equal(r.code, 0, `${e} cp c1:${src} ${dest}: ${r.stderr}`);
      }
    }
    const walk = (dir: string): string[] =>
      [...Deno.readDirSync(dir)].flatMap((x) => {
        const p = `${dir}/${x.name}`;
        const mode = (Deno.lstatSync(p).mode! & 0o7777).toString(8);
        const here = `${p.slice(dir.length)} ${mode}`;
        return x.isDirectory
          ? [here, ...walk(p).map((s) => `/${x.name}${s}`)]
          : [here];
      }).sort();
    assert.deepEqual(walk(`${sb.dir}/out-ptd`), walk(`${sb.dir}/out-podman`));

    // A tar on stdin goes into a directory, and only into one.
    const tar = await ptdBytes(sb, ["cp", "c1:/tmp/d", "-"]);
    for (const dest of ["c1:/", "c1:/tmp/f"]) {
      const a = await run("ptd", ["cp", "-", dest], tar);
      const b = await run("podman", ["cp", "-", dest], tar);
      assert.equal(a.code, b.code, `cp - ${dest}: ${a.stderr}`);
      assert.equal(a.stderr, b.stderr);
    }
    assert.equal(await tree(sb, "ptd", "/d"), await tree(sb, "podman", "/d"));

    // diff shows what cp changed, in podman's words and JSON shape (podman
    // lists in its store's walk order: compared sorted).
    const sorted = (text: string) => text.split("\n").sort().join("\n");
    const a = await run("ptd", ["diff", "c1"]);
    const b = await run("podman", ["diff", "c1"]);
    assert.equal(sorted(a.stdout), sorted(b.stdout));
    const json = async (e: "ptd" | "podman") => {
      const r = await run(e, ["diff", "--format", "json", "c1"]);
      const doc = JSON.parse(r.stdout) as Record<string, string[]>;
      for (const k of Object.keys(doc)) doc[k].sort();
      return doc;
    };
    assert.deepEqual(await json("ptd"), await json("podman"));
  }));

Deno.test("cp -a is a bool flag: it takes no value but an inline one", {
  ignore: !hasPodman(),
}, () =>
  withBoth(async (sb, run) => {
    const h = `${sb.dir}/h`;
    const cases: string[][] = [
      ["cp", "-a", `${h}/f`, "c1:/tmp/a1"],
      ["cp", "--archive", `${h}/f`, "c1:/tmp/a2"],
      ["cp", "--archive=false", `${h}/f`, "c1:/tmp/a3"],
      ["container", "cp", "-a", `${h}/f`, "c1:/tmp/a4"],
      ["cp", "--archive=bogus", `${h}/f`, "c1:/tmp/a5"],
    ];
    for (const args of cases) {
      const a = await run("ptd", args);
      const b = await run("podman", args);
      assert.equal(a.code, b.code, `${args.join(" ")}: ${a.stderr}`);
    }
    assert.match(await tree(sb, "ptd", "/tmp"), /^tmp\/a4 /m);
    assert.equal(
      await tree(sb, "ptd", "/tmp"),
      await tree(sb, "podman", "/tmp"),
    );
  }));

Deno.test("cp resolves a running container's symlinks inside its root", () =>
  withSandbox(async (sb) => {
    const tar = await busyboxLayer(`${sb.dir}/bb.tar`);
    assert.equal((await ptd(sb, ["import", tar, "bb"])).code, 0);
    const r = await ptd(sb, [
      "run",
      "-d",
      "--name",
      "c2",
      "bb",
      "/bin/sh",
      "-c",
      "ln -s ../../../../.. /up; ln -s /etc /etclink; echo inside > /etc/mark; exec sleep 100",
    ]);
    assert.equal(r.code, 0, r.stderr);
    Deno.writeTextFileSync(`${sb.dir}/x`, "x\n");
    for (let i = 0; i < 50; i++) {
      if ((await ptd(sb, ["exec", "c2", "cat", "/etc/mark"])).code === 0) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    // /up/etc is the container's /etc, never the host's.
    const out = await ptd(sb, ["cp", "c2:/up/etc/mark", `${sb.dir}/got`]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(Deno.readTextFileSync(`${sb.dir}/got`), "inside\n");
    const into = await ptd(sb, ["cp", `${sb.dir}/x`, "c2:/etclink/"]);
    assert.equal(into.code, 0, into.stderr);
    assert.equal(
      (await ptd(sb, ["exec", "c2", "cat", "/etc/x"])).stdout,
      "x\n",
    );
  }));

Deno.test("a multi-image archive of podman's loads whole, ids kept", {
  ignore: !hasPodman(),
}, () =>
  withSandbox(async (sb) => {
    try {
      const tar = await busyboxLayer(`${sb.dir}/bb.tar`);
      await podmanOk(sb, ["import", tar, "one"]);
      await podmanOk(sb, ["import", "-c", 'CMD ["/bin/sh"]', tar, "two"]);
      const ids = await podmanOk(sb, [
        "images",
        "--format",
        "{{.ID}} {{.Repository}}",
      ]);
      const archive = `${sb.dir}/m.tar`;
      await podmanOk(sb, ["save", "-m", "-o", archive, "one", "two"]);
      const r = await ptd(sb, ["load", "-i", archive]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        "Loaded image: localhost/one:latest\nLoaded image: localhost/two:latest\n",
      );
      const ours =
        (await ptd(sb, ["images", "--format", "{{.ID}} {{.Repository}}"]))
          .stdout;
      assert.deepEqual(ours.split("\n").sort(), ids.split("\n").sort());
      // And back: podman reads ptd's multi-image archive.
      const back = `${sb.dir}/back.tar`;
      assert.equal(
        (await ptd(sb, ["save", "-m", "-o", back, "one", "two"])).code,
        0,
      );
      await podmanOk(sb, ["rmi", "-a", "-f"]);
      const loaded = await podmanOk(sb, ["load", "-i", back]);
      assert.match(loaded, /localhost\/one:latest[\s\S]*localhost\/two:latest/);
      // import names like tag.
      const imp = await ptd(sb, ["import", tar, "three"]);
      assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
      assert.match(
        (await ptd(sb, ["images", "three"])).stdout,
        /localhost\/three/,
      );
    } finally {
      stopPodmanPause(sb);
    }
  }));

Deno.test("diff of a container that ran: its changes, not its mount points", {
  ignore: !hasPodman(),
}, () =>
  withBoth(async (_sb, run) => {
    const sorted = (t: string) => t.split("\n").filter(Boolean).sort();
    const out: Record<string, string[]> = {};
    for (const e of ["ptd", "podman"] as const) {
      const r = await run(e, [
        "run",
        "--name",
        "r2",
        "bb",
        "/bin/sh",
        "-c",
        "echo x > /tmp/new; rm /etc/passwd",
      ]);
      assert.equal(r.code, 0, `${e}: ${r.stderr}`);
      out[e] = sorted((await run(e, ["diff", "r2"])).stdout);
    }
    assert.deepEqual(out.ptd, [
      "A /tmp/new",
      "C /etc",
      "C /tmp",
      "D /etc/passwd",
    ]);
    assert.deepEqual(out.ptd, out.podman);
  }));
