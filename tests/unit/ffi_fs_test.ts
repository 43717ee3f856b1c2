/** The *at wrappers that layer unpacking stands on, as an ordinary user. */
import assert from "node:assert/strict";
import { SysError } from "../../ffi/errno.ts";
import * as fs from "../../ffi/fs.ts";

const BENEATH = fs.RESOLVE_BENEATH | fs.RESOLVE_NO_MAGICLINKS;

function withRoot(fn: (root: number, dir: string) => void) {
  const dir = Deno.makeTempDirSync();
  const root = fs.openat(fs.AT_FDCWD, dir, fs.O_DIRECTORY | fs.O_NOFOLLOW);
  try {
    fn(root, dir);
  } finally {
    fs.close(root);
    Deno.removeSync(dir, { recursive: true });
  }
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return e.code;
    throw e;
  }
  return "ok";
}

Deno.test("openat2 RESOLVE_BENEATH refuses every way out", () => {
  withRoot((root, dir) => {
    Deno.mkdirSync(`${dir}/real`);
    Deno.symlinkSync("real", `${dir}/inside`);
    Deno.symlinkSync("/etc", `${dir}/abs`);
    Deno.symlinkSync("../..", `${dir}/up`);
    const open = (p: string) => () =>
      fs.close(fs.openat2(root, p, fs.O_PATH | fs.O_DIRECTORY, BENEATH));
    assert.equal(code(open("inside")), "ok");
    assert.equal(code(open("abs")), "EXDEV");
    assert.equal(code(open("up")), "EXDEV");
    assert.equal(code(open("..")), "EXDEV");
    assert.equal(code(open("/etc")), "EXDEV");
    assert.equal(code(open("/proc/self/root")), "EXDEV");
  });
});

Deno.test("*at calls act on the name itself, never through a symlink", () => {
  withRoot((root, dir) => {
    Deno.writeTextFileSync(`${dir}/target`, "x");
    fs.symlinkat("target", root, "link");
    fs.lutimensat(root, "link", 1000, 2000);
    assert.equal(Deno.lstatSync(`${dir}/link`).mtime?.getTime(), 2_000_000);
    assert.notEqual(Deno.statSync(`${dir}/target`).mtime?.getTime(), 2_000_000);
    fs.linkat(root, "link", root, "hard");
    assert.ok(Deno.lstatSync(`${dir}/hard`).isSymlink);
    const flags = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
    assert.equal(code(() => fs.openat(root, "link", flags, 0o600)), "EEXIST");
    fs.mknodat(root, "fifo", fs.S_IFIFO | 0o640, 0n);
    assert.ok(Deno.lstatSync(`${dir}/fifo`).isFifo);
    fs.unlinkat(root, "fifo");
    fs.mkdirat(root, "d", 0o700);
    assert.equal(code(() => fs.unlinkat(root, "d")), "EISDIR");
    fs.unlinkat(root, "d", fs.AT_REMOVEDIR);
  });
});

Deno.test("makedev encodes like glibc", () => {
  assert.equal(fs.makedev(1, 3), 0x103n);
  assert.equal(fs.makedev(0x1234, 0x56789), 0x1000_5672_3489n);
});

Deno.test("xattrs: binary values round-trip; lsetxattr never follows", () => {
  withRoot((root, dir) => {
    const bytes = new Uint8Array([0xff, 0x00, 0x80, 0x0a]);
    Deno.writeTextFileSync(`${dir}/f`, "");
    fs.lsetxattr(`${dir}/f`, "user.bin", bytes);
    assert.deepEqual(fs.lgetxattrBytes(`${dir}/f`, "user.bin"), bytes);
    const fd = fs.openat(root, "f", fs.O_WRONLY);
    try {
      fs.fsetxattr(fd, "user.text", "y");
    } finally {
      fs.close(fd);
    }
    assert.equal(fs.lgetxattr(`${dir}/f`, "user.text"), "y");
    assert.equal(fs.lgetxattrBytes(`${dir}/f`, "user.none"), undefined);
    // user.* on a symlink itself is refused: the target is not touched.
    Deno.symlinkSync("f", `${dir}/sl`);
    assert.equal(code(() => fs.lsetxattr(`${dir}/sl`, "user.x", "1")), "EPERM");
    assert.equal(fs.lgetxattr(`${dir}/f`, "user.x"), undefined);
  });
});
