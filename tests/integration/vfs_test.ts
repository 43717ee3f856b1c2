/**
 * The vfs storage driver as a user runs it: each container's root is a
 * private copy of its layers (owners kept, whiteouts honoured) in its own
 * directory, what the container writes stays there across starts, `rm`
 * takes it away, and the store keeps the driver it was first used with.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lgetxattrBytes } from "../../ffi/fs.ts";
import {
  busyboxEntries,
  makeTar,
  MINBASE_MISSING,
  minbaseTar,
} from "../fixtures.ts";
import {
  busyboxRoot,
  ok,
  ptd,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";

const enc = new TextEncoder();
const VFS = ["--storage-driver", "vfs"];

/**
 * Loads `twolayer`: busybox with /gone and /owned (1000:1001, 0640, hard
 * linked as /link), then a layer that deletes /gone (a whiteout) and adds
 * /added (with an xattr).
 */
async function loadTwoLayers(sb: Sandbox, global: string[]) {
  const lower = await makeTar([
    ...busyboxEntries(),
    { name: "gone", data: enc.encode("lower\n") },
    { name: "owned", mode: 0o640, uid: 1000, gid: 1001, data: enc.encode("") },
    { name: "link", type: "link", linkname: "owned" },
  ]);
  const upper = await makeTar([
    { name: ".wh.gone", data: enc.encode("") },
    {
      name: "added",
      data: enc.encode("upper\n"),
      xattrs: { "user.ptd": enc.encode("kept") },
    },
  ]);
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"], Cmd: ["sh"] },
    rootfs: {
      type: "layers",
      diff_ids: [lower, upper].map((l) => `sha256:${sha(l)}`),
    },
  };
  const manifest = [{
    Config: "config.json",
    RepoTags: ["twolayer:latest"],
    Layers: ["lower.tar", "upper.tar"],
  }];
  const files: [string, Uint8Array][] = [
    ["config.json", enc.encode(JSON.stringify(config))],
    ["lower.tar", lower],
    ["upper.tar", upper],
    ["manifest.json", enc.encode(JSON.stringify(manifest))],
  ];
  const archive = await makeTar(files.map(([name, data]) => ({ name, data })));
  Deno.writeFileSync(`${sb.dir}/twolayer.tar`, archive);
  ok(await ptd(sb, [...global, "load", "-i", `${sb.dir}/twolayer.tar`]));
}

Deno.test("vfs: the root is the container's own copy of its layers", () =>
  withSandbox(async (sb) => {
    await loadTwoLayers(sb, VFS);
    const script = "stat -c %u:%g:%a:%h /owned; cat /added; " +
      "test -e /gone || echo gone; echo run >> /kept; cat /kept";
    const out = ok(
      await ptd(sb, [
        ...VFS,
        "run",
        "--name",
        "c",
        "twolayer",
        "sh",
        "-c",
        script,
      ]),
    );
    assert.equal(out, "1000:1001:640:2\nupper\ngone\nrun");
    const id = ok(await ptd(sb, ["inspect", "--format", "{{.Id}}", "c"]));
    const dir = `${sb.env.PTD_ROOT}/containers/${id}`;
    // The write landed in the copy, not in an overlay upper.
    assert.equal(Deno.readTextFileSync(`${dir}/rootfs/kept`), "run\n");
    assert.deepEqual(
      lgetxattrBytes(`${dir}/rootfs/added`, "user.ptd"),
      enc.encode("kept"),
    );
    assert.deepEqual([...Deno.readDirSync(`${dir}/upper`)], []);
    // The store remembers its driver: no flag needed from now on.
    assert.equal(
      ok(await ptd(sb, ["info", "--format", "{{.Store.GraphDriverName}}"])),
      "vfs",
    );
    ok(await ptd(sb, ["start", "c"]));
    ok(await ptd(sb, ["wait", "c"]));
    assert.equal(Deno.readTextFileSync(`${dir}/rootfs/kept`), "run\nrun\n");
    // diff compares the copy with the layers (drop_in_test holds it to
    // Podman's): what the runs wrote, not the empty upper dir.
    const diff = await ptd(sb, ["diff", "c"]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^A \/kept$/m);
    assert.doesNotMatch(diff.stdout, /^[AD] \/(added|gone|owned)$/m);
    // cp of the stopped container reads and writes its copy.
    ok(await ptd(sb, ["cp", "c:/kept", `${sb.dir}/kept`]));
    assert.equal(Deno.readTextFileSync(`${sb.dir}/kept`), "run\nrun\n");
    ok(await ptd(sb, ["cp", `${sb.dir}/kept`, "c:/copied"]));
    assert.equal(Deno.readTextFileSync(`${dir}/rootfs/copied`), "run\nrun\n");
    ok(await ptd(sb, ["rm", "c"]));
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
    // An overlay request on this vfs store is refused, as Podman does.
    const other = await ptd(sb, ["--storage-driver", "overlay", "ps"]);
    assert.equal(other.code, 125);
    assert.match(
      other.stderr,
      /database storage graph driver "vfs" does not match our storage graph driver "overlay"/,
    );
  }));

Deno.test("vfs: --rootfs runs on a copy and leaves the directory alone", () =>
  withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir);
    const script = "echo x > /new && cat /new";
    const run = ["run", "--name", "r", "--rootfs", root];
    const out = await ptd(sb, [...VFS, ...run, "sh", "-c", script]);
    assert.equal(ok(out), "x");
    assert.throws(() => Deno.statSync(`${root}/new`), Deno.errors.NotFound);
    const id = ok(await ptd(sb, ["inspect", "--format", "{{.Id}}", "r"]));
    const copy = `${sb.env.PTD_ROOT}/containers/${id}/rootfs`;
    assert.equal(Deno.readTextFileSync(`${copy}/new`), "x\n");
    assert.equal(Deno.readTextFileSync(`${copy}/etc/group`), "root:x:0:\n");
  }));

Deno.test("vfs: storage.conf's driver makes a new store vfs for good", () =>
  withSandbox(async (sb) => {
    const conf = `${sb.dir}/config/containers/storage.conf`;
    Deno.mkdirSync(`${sb.dir}/config/containers`, { recursive: true });
    Deno.writeTextFileSync(
      conf,
      '[storage.options]\ndriver = "overlay"\n\n[storage]\ndriver = "vfs"\n',
    );
    const env = { XDG_CONFIG_HOME: `${sb.dir}/config` };
    const root = busyboxRoot(sb.dir);
    const run = ["run", "--name", "r", "--rootfs", root, "sh", "-c", "exit"];
    ok(await ptd(sb, run, { env }));
    const id = ok(await ptd(sb, ["inspect", "--format", "{{.Id}}", "r"]));
    Deno.statSync(`${sb.env.PTD_ROOT}/containers/${id}/rootfs/etc/passwd`);
    // The store keeps it once the file no longer says so.
    Deno.removeSync(conf);
    assert.equal(
      ok(await ptd(sb, ["info", "--format", "{{.Store.GraphDriverName}}"])),
      "vfs",
    );
  }));

Deno.test("vfs: exec -u finds a user the container added", () =>
  withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["sleep", "grep"]);
    const script = "echo bob:x:4242:4242::/:/bin/sh >> /etc/passwd; sleep 60";
    const run = ["run", "-d", "--name", "e", "--rootfs", root];
    ok(await ptd(sb, [...VFS, ...run, "sh", "-c", script]));
    await until(async () =>
      (await ptd(sb, ["exec", "e", "grep", "-q", "bob", "/etc/passwd"]))
        .code === 0
    );
    assert.equal(
      ok(await ptd(sb, ["exec", "-u", "bob", "e", "id", "-u"])),
      "4242",
    );
  }));

if (!minbaseTar()) console.error(`SKIP vfs minbase test: ${MINBASE_MISSING}`);

Deno.test("vfs: a Debian minbase root keeps its owners and setuid bits", {
  ignore: !minbaseTar(),
}, () =>
  withSandbox(async (sb) => {
    ok(await ptd(sb, [...VFS, "import", minbaseTar()!, "minbase"]));
    const script = "stat -c '%U:%G:%a' /usr/bin/passwd /etc/shadow /var/mail";
    const out = await ptd(sb, [
      ...VFS,
      "run",
      "--rm",
      "minbase",
      "sh",
      "-c",
      script,
    ]);
    assert.equal(ok(out), "root:root:4755\nroot:shadow:640\nroot:mail:2775");
  }));
