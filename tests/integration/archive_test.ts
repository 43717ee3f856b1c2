/**
 * `ptd import`, `save` and `load` as a user runs them, against each other
 * and against Podman (a peer installed for tests: `podman load` must read
 * what ptd saves and the other way round), plus tampered archives.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  busyboxLayer,
  makeTar,
  MINBASE_MISSING,
  minbaseTar,
} from "../fixtures.ts";
import { hasPodman, podmanOk, stopPodmanPause } from "../podman.ts";
import {
  ptd,
  ptdArgv,
  type Result,
  type Sandbox,
  withSandbox,
} from "../helpers.ts";

const FORMATS = ["docker-archive", "oci-archive"];
const CMD = ["/bin/sh", "-c", "echo hello"];

function ok(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

/** An isolated store with the busybox fixture imported as bb:test. */
function withBusybox(fn: (sb: Sandbox) => Promise<void>) {
  return withSandbox(async (sb) => {
    const tar = await busyboxLayer(`${sb.dir}/busybox.tar`);
    ok(
      await ptd(sb, [
        "import",
        "--change",
        `CMD ${JSON.stringify(CMD)}`,
        "--change",
        "ENV GREETING=hi",
        tar,
        "bb:test",
      ]),
      "import",
    );
    await fn(sb);
  });
}

/** The shell words that run ptd from source, for a pipeline test. */
function ptdLine(): string {
  return ptdArgv([]).join(" ");
}

async function inspect(sb: Sandbox, ref: string) {
  return JSON.parse(ok(await ptd(sb, ["image", "inspect", ref]), "inspect"))[0];
}

Deno.test("import, then save and load in both formats", async () => {
  await withBusybox(async (sb) => {
    const before = await inspect(sb, "bb:test");
    assert.deepEqual(before.Config.Cmd, CMD);
    assert.ok(before.Config.Env.includes("GREETING=hi"));
    for (const format of FORMATS) {
      const out = `${sb.dir}/${format}.tar`;
      ok(
        await ptd(sb, ["save", "--format", format, "-o", out, "bb:test"]),
        "save",
      );
      ok(await ptd(sb, ["rmi", "bb:test"]), "rmi");
      const loaded = await ptd(sb, ["load"], { stdin: Deno.readFileSync(out) });
      assert.equal(
        ok(loaded, "load"),
        "Loaded image: localhost/bb:test\n",
      );
      const after = await inspect(sb, "bb:test");
      assert.equal(after.Id, before.Id, format);
      assert.deepEqual(after.Config, before.Config, format);
    }
    // Without -o the archive goes to stdout, and import reads stdin ("-").
    const saved = await new Deno.Command("sh", {
      args: ["-c", `${ptdLine()} save bb:test > ${sb.dir}/stdout.tar`],
      env: sb.env,
    }).output();
    assert.equal(saved.code, 0, new TextDecoder().decode(saved.stderr));
    ok(await ptd(sb, ["load", "-i", `${sb.dir}/stdout.tar`]), "load");
    const layer = Deno.readFileSync(`${sb.dir}/busybox.tar`);
    const id = ok(
      await ptd(sb, ["import", "-", "bb:stdin"], { stdin: layer }),
      "import -",
    );
    // Podman's import prints the digest; its inspect's Id is the bare hex.
    assert.equal(id.trim(), `sha256:${(await inspect(sb, "bb:stdin")).Id}`);
    const missing = await ptd(sb, ["load", "-i", `${sb.dir}/nope.tar`]);
    assert.equal(missing.stderr, `Error: ${sb.dir}/nope.tar: no such file\n`);
  });
});

Deno.test("import: a tarball whose file replaces an earlier directory", () =>
  withSandbox(async (sb) => {
    const tar = await makeTar([
      { name: "d/", type: "directory", mode: 0o755 },
      { name: "d", data: new TextEncoder().encode("file now") },
    ]);
    Deno.writeFileSync(`${sb.dir}/rootfs.tar`, tar);
    ok(await ptd(sb, ["import", `${sb.dir}/rootfs.tar`, "dfile"]), "import");
    const [layer] = [...Deno.readDirSync(`${sb.env.PTD_ROOT}/layers`)];
    const d = `${sb.env.PTD_ROOT}/layers/${layer.name}/d`;
    assert.equal(Deno.readTextFileSync(d), "file now");
  }));

Deno.test("a tampered archive is refused and stores nothing", () =>
  withSandbox(async (sb) => {
    const enc = new TextEncoder();
    const layer = await makeTar([{ name: "f", data: enc.encode("real") }]);
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    const config = enc.encode(JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [`sha256:${sha(layer)}`] },
    }));
    const forged = await makeTar([{ name: "f", data: enc.encode("evil") }]);
    const docker = await makeTar([
      { name: "config.json", data: config },
      { name: "layer.tar", data: forged },
      {
        name: "manifest.json",
        data: enc.encode(JSON.stringify([{
          Config: "config.json",
          RepoTags: ["forged:latest"],
          Layers: ["layer.tar"],
        }])),
      },
    ]);
    const oci = await makeTar([
      {
        name: "oci-layout",
        data: enc.encode('{"imageLayoutVersion":"1.0.0"}'),
      },
      { name: `blobs/sha256/${sha(layer)}`, data: forged },
      {
        name: "index.json",
        data: enc.encode(JSON.stringify({
          schemaVersion: 2,
          manifests: [{
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${sha(layer)}`,
            size: layer.length,
          }],
        })),
      },
    ]);
    for (const [name, archive] of [["docker", docker], ["oci", oci]] as const) {
      const r = await ptd(sb, ["load"], { stdin: archive });
      assert.equal(r.code, 125, name);
      assert.match(r.stderr, /^Error: [^\n]*digest mismatch[^\n]*\n$/, name);
      assert.equal(ok(await ptd(sb, ["images", "-q"]), "images"), "", name);
    }
    const junk = await ptd(sb, ["load"], { stdin: "not an archive at all" });
    assert.equal(junk.code, 125);
    assert.match(junk.stderr, /^Error: not a valid image archive/);
  }));

Deno.test("podman loads what ptd saves, ptd loads what podman saves", {
  ignore: !hasPodman(),
}, async () => {
  await withBusybox(async (sb) => {
    try {
      const id = (await inspect(sb, "bb:test")).Id;
      const name = "localhost/bb:test";
      for (const format of FORMATS) {
        const ours = `${sb.dir}/ptd-${format}.tar`;
        ok(
          await ptd(sb, ["save", "--format", format, "-o", ours, "bb:test"]),
          "save",
        );
        await podmanOk(sb, ["load", "-i", ours]);
        assert.equal(
          (await podmanOk(sb, [
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            name,
          ])).trim(),
          id,
        );
        assert.equal(await podmanOk(sb, ["run", "--rm", name]), "hello\n");

        const theirs = `${sb.dir}/podman-${format}.tar`;
        await podmanOk(sb, ["save", "--format", format, "-o", theirs, name]);
        ok(await ptd(sb, ["rmi", "bb:test"]), "rmi");
        assert.equal(
          ok(await ptd(sb, ["load", "-i", theirs]), "load"),
          `Loaded image: ${name}\n`,
        );
        assert.equal((await inspect(sb, "bb:test")).Id, id);
        assert.equal(
          ok(await ptd(sb, ["run", "--rm", "bb:test"]), "run"),
          "hello\n",
        );
        await podmanOk(sb, ["rmi", name]);
      }
    } finally {
      stopPodmanPause(sb);
    }
  });
});

if (!minbaseTar()) console.error(`SKIP minbase image test: ${MINBASE_MISSING}`);

Deno.test("a Debian minbase image keeps setuid root /usr/bin/passwd", {
  ignore: !minbaseTar(),
}, () =>
  withSandbox(async (sb) => {
    ok(await ptd(sb, ["import", minbaseTar()!, "debian-minbase"]), "import");
    const out = ok(
      await ptd(sb, [
        "run",
        "--rm",
        "debian-minbase",
        "ls",
        "-l",
        "/usr/bin/passwd",
      ]),
      "run",
    );
    assert.match(out, /^-rwsr-xr-x 1 root root \d+ .* \/usr\/bin\/passwd\n$/);
  }));
