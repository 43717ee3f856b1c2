/**
 * cp's two halves on plain directories (no namespaces): a tree packed and
 * landed as Podman lands it, and every path resolved inside the root,
 * symlinks and `..` included.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import * as fs from "../../ffi/fs.ts";
import { landTree, packTree } from "../../src/container/cp_tree.ts";

/** A sink that keeps the bytes. */
function memory() {
  const parts: Uint8Array[] = [];
  return {
    write: (
      p: Uint8Array,
    ) => (parts.push(p.slice()), Promise.resolve(p.length)),
    bytes: () => new Uint8Array(parts.flatMap((p) => [...p])),
  };
}

async function withRoots(
  fn: (
    src: string,
    dst: string,
    fds: { src: number; dst: number },
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const src = `${dir}/src`, dst = `${dir}/dst`;
  Deno.mkdirSync(`${src}/d/sub`, { recursive: true });
  Deno.mkdirSync(`${dst}/etc`, { recursive: true });
  Deno.writeTextFileSync(`${src}/f`, "a\n");
  Deno.chmodSync(`${src}/f`, 0o640);
  Deno.writeTextFileSync(`${src}/d/sub/g`, "b\n");
  const open = (p: string) =>
    fs.openat(fs.AT_FDCWD, p, fs.O_PATH | fs.O_DIRECTORY);
  const fds = { src: open(src), dst: open(dst) };
  try {
    await fn(src, dst, fds);
  } finally {
    fs.close(fds.src);
    fs.close(fds.dst);
    Deno.removeSync(dir, { recursive: true });
  }
}

async function copy(
  fds: { src: number; dst: number },
  from: string,
  to: string,
): Promise<void> {
  const m = memory();
  await packTree(fds.src, from, m, { where: "src" });
  await landTree(Readable.from([m.bytes()]), fds.dst, to, {
    userns: false,
    owner: "skip",
    stdin: false,
    where: "dst",
  });
}

const tree = (dir: string): string[] =>
  [...Deno.readDirSync(dir)].flatMap((e) => {
    const p = `${dir}/${e.name}`;
    return e.isDirectory
      ? [e.name, ...tree(p).map((x) => `${e.name}/${x}`)]
      : [e.name];
  }).sort();

Deno.test("cp lands files and dirs as Podman: into dirs, new names, content", () =>
  withRoots(async (_src, dst, fds) => {
    await copy(fds, "/f", "/");
    await copy(fds, "/f", "/idx.html"); // a new name with a dot, kept as is
    await copy(fds, "/d", "/");
    await copy(fds, "/d", "/newd");
    await copy(fds, "/d/.", "/dd");
    assert.deepEqual(tree(dst), [
      "d",
      "d/sub",
      "d/sub/g",
      "dd",
      "dd/sub",
      "dd/sub/g",
      "etc",
      "f",
      "idx.html",
      "newd",
      "newd/sub",
      "newd/sub/g",
    ]);
    assert.equal(Deno.statSync(`${dst}/idx.html`).mode! & 0o777, 0o640);
    await assert.rejects(copy(fds, "/d", "/f"), /must be a directory/);
    await assert.rejects(
      copy(fds, "/f", "/nope/x"),
      /"\/nope\/x" could not be found on dst/,
    );
    await assert.rejects(
      copy(fds, "/nope", "/"),
      /"\/nope" could not be found on src/,
    );
  }));

Deno.test("cp resolves symlinks and .. inside the root, never outside", () =>
  withRoots(async (src, dst, fds) => {
    // Absolute and climbing links in the destination stay in its root.
    Deno.symlinkSync("/etc", `${dst}/etclink`);
    Deno.symlinkSync("../../../../../../../etc", `${dst}/up`);
    await copy(fds, "/f", "/etclink/");
    await copy(fds, "/f", "/up/f2");
    await copy(fds, "/f", "/../../../etc/f3");
    assert.deepEqual(tree(`${dst}/etc`), ["f", "f2", "f3"]);
    // And in the source: an absolute link is read in the source root.
    Deno.symlinkSync("/d", `${src}/dlink`);
    await copy(fds, "/dlink/sub/g", "/etc/g");
    assert.equal(Deno.readTextFileSync(`${dst}/etc/g`), "b\n");
  }));
