/**
 * Layer unpacking as a user runs it (rootless: inside the user namespace,
 * owners land as subordinate ids on the host): metadata survives, every
 * compression gives the same tree, whiteouts work in a real overlay mount,
 * and broken layers leave nothing behind.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { lgetxattr } from "../../ffi/fs.ts";
import { layerSink, unpackLayer } from "../../src/image/unpack.ts";
import { isOpaque, upperChanges } from "../../src/storage/overlay_upper.ts";
import { digestOf } from "../../src/storage/blobs.ts";
import {
  busyboxLayer,
  makeTar,
  MINBASE_MISSING,
  minbaseTar,
  type TarEntry,
} from "../fixtures.ts";
import { REPO, ROOTLESS, sandbox } from "../helpers.ts";

const LAYER = "application/vnd.oci.image.layer.v1.tar";

/** The host id an id of the layer gets: rootless, 0 is the user and N the
 * (N-1)th subordinate id. */
function hostId(id: number, file: "/etc/subuid" | "/etc/subgid"): number {
  if (!ROOTLESS) return id;
  if (id === 0) return file === "/etc/subuid" ? Deno.uid()! : Deno.gid()!;
  const user = Deno.env.get("USER") ??
    new TextDecoder().decode(
      new Deno.Command("id", { args: ["-un"] }).outputSync().stdout,
    ).trim();
  const line = Deno.readTextFileSync(file).split("\n")
    .find((l) => l.startsWith(`${user}:`) || l.startsWith(`${Deno.uid()}:`));
  assert.ok(line, `no ${file} range for ${user}`);
  return Number(line.split(":")[1]) + id - 1;
}

const enc = new TextEncoder();
const file = (name: string, extra: Partial<TarEntry> = {}): TarEntry => ({
  name,
  mode: 0o644,
  data: enc.encode(name),
  ...extra,
});

const longName = `long/${"n".repeat(200)}`;
const longTarget = `${"t".repeat(300)}/x`;

const ENTRIES: TarEntry[] = [
  { name: "./", type: "directory", mode: 0o755 },
  {
    name: "d/",
    type: "directory",
    mode: 0o755,
    uid: 1,
    gid: 2,
    mtime: new Date(1e9),
  },
  file("d/suid", { mode: 0o4755 }),
  file("sgid", { mode: 0o2755, gid: 50 }),
  file("owned", {
    mode: 0o640,
    uid: 1000,
    gid: 1001,
    mtime: new Date(123456789000),
  }),
  { name: "owned-link", type: "link", linkname: "owned" },
  { name: "sl", type: "symlink", linkname: "owned", uid: 5, gid: 6 },
  { name: "fifo", type: "fifo", mode: 0o620 },
  file(longName),
  { name: "long/sl", type: "symlink", linkname: longTarget },
  file("d/.wh.gone"),
  { name: "opq", type: "directory", mode: 0o755 },
  file("opq/.wh..wh..opq"),
  file("implied/parent/file"),
  file("dup", { data: enc.encode("v1") }),
  file("dup", { data: enc.encode("v2") }),
  { name: "private", type: "directory", mode: 0o700, uid: 7 },
];

function checkTree(root: string) {
  const st = (p: string) => Deno.lstatSync(`${root}/${p}`);
  const mode = (p: string) => st(p).mode! & 0o7777;
  assert.equal(st("d").uid, hostId(1, "/etc/subuid"));
  assert.equal(st("d").gid, hostId(2, "/etc/subgid"));
  assert.equal(st("d").mtime?.getTime(), 1e9);
  assert.equal(mode("d/suid"), 0o4755);
  assert.equal(st("d/suid").uid, hostId(0, "/etc/subuid"));
  assert.equal(mode("sgid"), 0o2755);
  assert.equal(st("sgid").gid, hostId(50, "/etc/subgid"));
  assert.equal(mode("owned"), 0o640);
  assert.equal(st("owned").uid, hostId(1000, "/etc/subuid"));
  assert.equal(st("owned").gid, hostId(1001, "/etc/subgid"));
  assert.equal(st("owned").mtime?.getTime(), 123456789000);
  assert.equal(st("owned-link").ino, st("owned").ino);
  assert.equal(st("owned").nlink, 2);
  assert.ok(st("sl").isSymlink);
  assert.equal(Deno.readLinkSync(`${root}/sl`), "owned");
  assert.equal(st("sl").uid, hostId(5, "/etc/subuid"));
  assert.ok(st("fifo").isFifo);
  assert.equal(mode("fifo"), 0o620);
  assert.equal(Deno.readTextFileSync(`${root}/${longName}`), longName);
  assert.equal(Deno.readLinkSync(`${root}/long/sl`), longTarget);
  assert.ok(st("d/gone").isCharDevice);
  assert.equal(st("d/gone").rdev, 0);
  assert.equal(
    lgetxattr(`${root}/opq`, `${ROOTLESS ? "user" : "trusted"}.overlay.opaque`),
    "y",
  );
  assert.equal(
    Deno.readTextFileSync(`${root}/implied/parent/file`),
    "implied/parent/file",
  );
  assert.equal(Deno.readTextFileSync(`${root}/dup`), "v2");
  assert.equal(mode("private"), 0o700);
}

const compressions: [string, (b: Uint8Array) => Uint8Array, string][] = [
  ["plain", (b) => b, LAYER],
  ["gzip", (b) => zlib.gzipSync(b), `${LAYER}+gzip`],
  ["zstd", (b) => zlib.zstdCompressSync(b), `${LAYER}+zstd`],
  // Docker archives label gzip layers as plain tar: the magic bytes win.
  ["gzip labelled plain", (b) => zlib.gzipSync(b), LAYER],
];

Deno.test("unpack keeps owners, modes, links, fifos, times, whiteouts", async (t) => {
  const sb = await sandbox();
  try {
    const tar = await makeTar(ENTRIES);
    for (const [name, compress, mediaType] of compressions) {
      await t.step(name, async () => {
        const blob = `${sb.dir}/${name}.blob`;
        Deno.writeFileSync(blob, compress(tar));
        const dest = `${sb.dir}/${name}`;
        await unpackLayer(blob, mediaType, dest);
        checkTree(dest);
      });
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a later entry replaces a directory with a file, as in Podman", async () => {
  const sb = await sandbox();
  try {
    // The root's fd is cached when "d" is removed: it must stay usable.
    const tar = await makeTar([
      { name: "d/", type: "directory", mode: 0o755 },
      file("d"),
      { name: "full/", type: "directory", mode: 0o755 },
      file("full/sub/deep"),
      { name: "full/sub/sl", type: "symlink", linkname: "/" },
      file("full"),
      file("after/x"),
    ]);
    Deno.writeFileSync(`${sb.dir}/l.tar`, tar);
    await unpackLayer(`${sb.dir}/l.tar`, LAYER, `${sb.dir}/dest`);
    for (const name of ["d", "full", "after/x"]) {
      assert.equal(Deno.readTextFileSync(`${sb.dir}/dest/${name}`), name);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a layer sink unpacks as the bytes come; only commit names the tree", async () => {
  const sb = await sandbox();
  try {
    const tar = await makeTar(ENTRIES);
    const blob = zlib.gzipSync(tar);
    const dir = `${sb.dir}/layers`;
    Deno.mkdirSync(dir);
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name);
    // Two bytes first: the compression is sniffed only once four are in.
    const feed = async (dest: string, upTo = blob.length) => {
      const sink = layerSink(`${LAYER}+gzip`, `${dir}/${dest}`, dest);
      await sink.write(blob.subarray(0, 2));
      for (let at = 2; at < upTo; at += 1000) {
        await sink.write(blob.subarray(at, Math.min(at + 1000, upTo)));
      }
      return sink;
    };
    const kept = await feed("kept");
    assert.equal(await kept.end(), digestOf(tar));
    assert.ok(!names().includes("kept"), "named before commit");
    await kept.commit();
    checkTree(`${dir}/kept`);
    const verified = await feed("refused");
    await verified.end();
    await verified.abort();
    const half = await feed("half", blob.length / 2);
    await half.abort();
    assert.deepEqual(names(), ["kept"]);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a broken layer is refused and leaves nothing", async () => {
  const sb = await sandbox();
  try {
    const plain = await makeTar(ENTRIES);
    const good = zlib.gzipSync(plain);
    const cases: [string, Uint8Array, string][] = [
      ["truncated gzip", good.subarray(0, good.length / 2), `${LAYER}+gzip`],
      ["not gzip", enc.encode("hello world".repeat(100)), `${LAYER}+gzip`],
      ["truncated tar", plain.subarray(0, 1500), LAYER],
    ];
    for (const [name, bytes, mediaType] of cases) {
      const parent = `${sb.dir}/${name}`;
      Deno.mkdirSync(parent);
      Deno.writeFileSync(`${parent}.blob`, bytes);
      await assert.rejects(
        unpackLayer(`${parent}.blob`, mediaType, `${parent}/dest`),
        /^Error: (invalid layer|layer )[^\n]*$/,
        name,
      );
      assert.deepEqual([...Deno.readDirSync(parent)], [], name);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("device nodes are skipped rootless with one warning", {
  ignore: !ROOTLESS,
}, async () => {
  const sb = await sandbox();
  try {
    const dev = (name: string, minor: number): TarEntry => ({
      name,
      type: "character-device",
      mode: 0o666,
      devmajor: 1,
      devminor: minor,
    });
    Deno.writeFileSync(
      `${sb.dir}/l.tar`,
      await makeTar([dev("dev/null", 3), dev("dev/zero", 5), file("after")]),
    );
    const code = `import { unpackLayer } from "${REPO}/src/image/unpack.ts";
      await unpackLayer("${sb.dir}/l.tar", "${LAYER}", "${sb.dir}/dest");`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", `--config=${REPO}/deno.json`, code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr.match(/WARN/g)?.length, 1, stderr);
    assert.match(stderr, /device nodes/);
    assert.deepEqual(
      [...Deno.readDirSync(`${sb.dir}/dest`)].map((e) => e.name).sort(),
      ["after", "dev"],
    );
    assert.deepEqual([...Deno.readDirSync(`${sb.dir}/dest/dev`)], []);
  } finally {
    await sb.cleanup();
  }
});

function unshare(args: string[]): Deno.CommandOutput {
  return new Deno.Command("unshare", {
    args: [...(ROOTLESS ? ["-Urm"] : ["-m"]), "sh", "-c", ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
}

Deno.test("whiteouts and opaque dirs act in an overlay mount", async () => {
  const sb = await sandbox();
  try {
    const lower = await makeTar([file("a"), file("b"), file("dir/x")]);
    const upper = await makeTar([
      file(".wh.a"),
      { name: "dir", type: "directory", mode: 0o755 },
      file("dir/.wh..wh..opq"),
      file("dir/y"),
    ]);
    for (const [name, bytes] of [["lower", lower], ["upper", upper]] as const) {
      Deno.writeFileSync(`${sb.dir}/${name}.tar`, bytes);
      await unpackLayer(`${sb.dir}/${name}.tar`, LAYER, `${sb.dir}/${name}`);
    }
    Deno.mkdirSync(`${sb.dir}/merged`);
    // The same option string the runtime uses: lowerdir=top:bottom.
    const opts = `lowerdir=${sb.dir}/upper:${sb.dir}/lower` +
      (ROOTLESS ? ",userxattr" : "");
    const out = unshare([
      `mount -t overlay overlay -o ${opts} ${sb.dir}/merged && ls ${sb.dir}/merged ${sb.dir}/merged/dir`,
    ]);
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(
      text,
      `${sb.dir}/merged:\nb\ndir\n\n${sb.dir}/merged/dir:\ny\n`,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("an unpacked layer lists back as its tar's entries, .wh. names and all", async () => {
  const sb = await sandbox();
  try {
    const entries: TarEntry[] = [
      { name: "a", type: "directory", mode: 0o755 },
      file("a/.wh..wh..opq"),
      file("a/.wh.gone"),
      file("a/kept"),
      { name: "a/sl", type: "symlink", linkname: "kept" },
      file(".wh.top"),
      { name: "z", type: "directory", mode: 0o700 },
    ];
    Deno.writeFileSync(`${sb.dir}/l.tar`, await makeTar(entries));
    await unpackLayer(`${sb.dir}/l.tar`, LAYER, `${sb.dir}/upper`);
    const changes = upperChanges(`${sb.dir}/upper`);
    assert.deepEqual(
      changes.map((c) => `${c.kind} ${c.path}`),
      [
        "node a",
        "opaque a/.wh..wh..opq",
        "whiteout a/.wh.gone",
        "node a/kept",
        "node a/sl",
        "whiteout .wh.top",
        "node z",
      ],
    );
    assert.ok(changes[6].info?.isDirectory);
    assert.equal(changes[6].info?.mode! & 0o7777, 0o700);
    assert.ok(changes[4].info?.isSymlink);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a layer's own overlay xattrs are never set: only .wh. names hide", async () => {
  const sb = await sandbox();
  try {
    const y = enc.encode("y");
    Deno.writeFileSync(
      `${sb.dir}/l.tar`,
      await makeTar([
        {
          name: "dir",
          type: "directory",
          mode: 0o755,
          xattrs: { "user.overlay.opaque": y, "trusted.overlay.opaque": y },
        },
        file("dir/f", { xattrs: { "user.kept": y } }),
      ]),
    );
    await unpackLayer(`${sb.dir}/l.tar`, LAYER, `${sb.dir}/dest`);
    assert.equal(isOpaque(`${sb.dir}/dest/dir`), false);
    assert.equal(lgetxattr(`${sb.dir}/dest/dir/f`, "user.kept"), "y");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("the busybox fixture unpacks into a runnable tree", async () => {
  const sb = await sandbox();
  try {
    const blob = await busyboxLayer(`${sb.dir}/busybox.tar`);
    await unpackLayer(blob, LAYER, `${sb.dir}/rootfs`);
    const root = `${sb.dir}/rootfs`;
    assert.equal(Deno.readLinkSync(`${root}/bin/sh`), "../bin/busybox");
    assert.equal(Deno.lstatSync(`${root}/tmp`).mode! & 0o7777, 0o1777);
    const out = new Deno.Command(`${root}/bin/busybox`, { args: ["true"] })
      .outputSync();
    assert.equal(out.code, 0);
  } finally {
    await sb.cleanup();
  }
});

if (!minbaseTar()) console.error(`SKIP minbase tests: ${MINBASE_MISSING}`);

Deno.test("the Debian minbase rootfs keeps setuid root files", {
  ignore: !minbaseTar(),
}, async () => {
  const sb = await sandbox();
  try {
    const root = `${sb.dir}/minbase`;
    await unpackLayer(minbaseTar()!, LAYER, root);
    const passwd = Deno.lstatSync(`${root}/usr/bin/passwd`);
    assert.equal(passwd.mode! & 0o7777, 0o4755);
    assert.equal(passwd.uid, hostId(0, "/etc/subuid"));
    const shadow = Deno.lstatSync(`${root}/etc/shadow`);
    assert.equal(shadow.gid, hostId(42, "/etc/subgid"));
    assert.equal(Deno.readLinkSync(`${root}/bin`), "usr/bin");
  } finally {
    await sb.cleanup();
  }
});
