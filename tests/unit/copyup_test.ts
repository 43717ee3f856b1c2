import { assertEquals } from "../assert.ts";
import { copyMain } from "../../src/volume/copyup.ts";
import {
  AT_FDCWD,
  close,
  fsetxattr,
  mknodat,
  O_DIRECTORY,
  openat,
  S_IFCHR,
} from "../../ffi/fs.ts";

async function withDir(fn: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ptd-copyup-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function tree(root: string, files: Record<string, string>) {
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(full, text);
  }
}

function listing(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? listing(`${dir}/${e.name}`, `${prefix}${e.name}/`)
      : [`${prefix}${e.name}`]
  ).sort();
}

Deno.test("copy-up merges layers top over bottom, keeps modes and times, copies symlinks as links", () =>
  withDir((d) => {
    tree(`${d}/lower`, { "data/a": "lower", "data/b": "b", "data/sub/c": "c" });
    tree(`${d}/upper`, { "data/a": "upper" });
    Deno.chmodSync(`${d}/lower/data/b`, 0o640);
    Deno.chmodSync(`${d}/lower/data/sub`, 0o710);
    Deno.utimeSync(`${d}/lower/data/b`, 1000, 2000);
    Deno.symlinkSync("/etc/passwd", `${d}/lower/data/link`);
    Deno.mkdirSync(`${d}/vol`);
    assertEquals(
      copyMain([`${d}/vol`, "/data", `${d}/upper`, `${d}/lower`]),
      0,
    );
    assertEquals(listing(`${d}/vol`), ["a", "b", "link", "sub/c"]);
    assertEquals(Deno.readTextFileSync(`${d}/vol/a`), "upper");
    assertEquals(Deno.statSync(`${d}/vol/b`).mode! & 0o7777, 0o640);
    assertEquals(Deno.statSync(`${d}/vol/sub`).mode! & 0o7777, 0o710);
    assertEquals(Deno.statSync(`${d}/vol/b`).mtime?.getTime(), 2_000_000);
    assertEquals(Deno.readLinkSync(`${d}/vol/link`), "/etc/passwd");
  }));

Deno.test("copy-up never follows a symlink on the way to the path", () =>
  withDir((d) => {
    tree(`${d}/host`, { "secret": "host file" });
    Deno.mkdirSync(`${d}/layer`);
    Deno.symlinkSync(`${d}/host`, `${d}/layer/data`);
    Deno.mkdirSync(`${d}/vol`);
    copyMain([`${d}/vol`, "/data", `${d}/layer`]);
    assertEquals(listing(`${d}/vol`), []);
  }));

Deno.test("copy-up: an opaque directory hides what lower layers have", () =>
  withDir((d) => {
    tree(`${d}/lower`, { "data/old": "x", "data/keep/old": "x" });
    tree(`${d}/upper`, { "data/keep/new": "y" });
    const fd = openat(AT_FDCWD, `${d}/upper/data/keep`, O_DIRECTORY);
    try {
      fsetxattr(fd, "user.overlay.opaque", "y");
    } catch {
      return; // the temp file system has no user xattrs
    } finally {
      close(fd);
    }
    Deno.mkdirSync(`${d}/vol`);
    copyMain([`${d}/vol`, "/data", `${d}/upper`, `${d}/lower`]);
    assertEquals(listing(`${d}/vol`), ["keep/new", "old"]);
  }));

Deno.test({
  name: "copy-up: a whiteout removes what lower layers have",
  ignore: Deno.uid() !== 0, // mknod of a 0:0 device needs (namespace) root
  fn: () =>
    withDir((d) => {
      tree(`${d}/lower`, { "data/gone": "x", "data/kept": "y" });
      Deno.mkdirSync(`${d}/upper/data`, { recursive: true });
      const fd = openat(AT_FDCWD, `${d}/upper/data`, O_DIRECTORY);
      try {
        mknodat(fd, "gone", S_IFCHR, 0n);
      } finally {
        close(fd);
      }
      Deno.mkdirSync(`${d}/vol`);
      copyMain([`${d}/vol`, "/data", `${d}/upper`, `${d}/lower`]);
      assertEquals(listing(`${d}/vol`), ["kept"]);
    }),
});
