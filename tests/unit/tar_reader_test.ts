/**
 * The layer tar reader: pax xattr values arrive as the bytes the archive
 * holds, whatever they are; names, owners and times come from pax, GNU long
 * names and base-256 numbers as GNU tar writes them; broken archives fail.
 */
import assert from "node:assert/strict";
import { type TarHeader, TarReader } from "../../src/image/tar_reader.ts";
import { makeTar } from "../fixtures.ts";
import { sandbox } from "../helpers.ts";

interface Read {
  header: TarHeader;
  data: string;
}

/** The entries of `tar`, fed in chunks of `chunk` bytes. */
function read(tar: Uint8Array, chunk = 7): Read[] {
  const out: Read[] = [];
  let parts: Uint8Array[] = [];
  const reader = new TarReader({
    entry: (header) => out.push({ header, data: "" }),
    data: (c) => parts.push(c.slice()),
    end: () => {
      out[out.length - 1].data = new TextDecoder().decode(
        new Uint8Array(parts.flatMap((p) => [...p])),
      );
      parts = [];
    },
  });
  for (let at = 0; at < tar.length; at += chunk) {
    reader.write(tar.subarray(at, at + chunk));
  }
  reader.finish();
  return out;
}

const BINARY = new Uint8Array([0xff, 0x00, 0x0a, 0x3d, 0x80, 0xc3]);

Deno.test("pax xattr values are kept as bytes", async () => {
  const tar = await makeTar([
    {
      name: "f",
      data: new TextEncoder().encode("content"),
      xattrs: { "user.bin": BINARY, "security.capability": new Uint8Array(20) },
    },
    { name: "g", data: new TextEncoder().encode("plain") },
  ]);
  for (const chunk of [1, 7, 512, tar.length]) {
    const [f, g] = read(tar, chunk);
    assert.equal(f.header.name, "f");
    assert.equal(f.data, "content");
    assert.deepEqual(f.header.xattrs.get("user.bin"), BINARY);
    assert.deepEqual(
      f.header.xattrs.get("security.capability"),
      new Uint8Array(20),
    );
    assert.equal(g.data, "plain");
    assert.equal(g.header.xattrs.size, 0, "pax records are per entry");
  }
});

Deno.test("GNU tar's long names, pax times and base-256 owners", async () => {
  const sb = await sandbox();
  try {
    const dir = `${sb.dir}/src`;
    const long = `${"d".repeat(120)}/${"f".repeat(120)}`;
    Deno.mkdirSync(`${dir}/${"d".repeat(120)}`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/${long}`, "x".repeat(1000));
    Deno.symlinkSync("t".repeat(150), `${dir}/link`);
    Deno.utimeSync(`${dir}/${long}`, 1.5, 1234567890.25);
    const tarOf = (format: string, ...extra: string[]) => {
      const out = new Deno.Command("tar", {
        args: [
          `--format=${format}`,
          "-C",
          dir,
          ...extra,
          "-cf",
          "-",
          "link",
          long,
        ],
        stdout: "piped",
      }).outputSync();
      assert.ok(out.success);
      return out.stdout;
    };
    for (const format of ["gnu", "pax"]) {
      const [link, file] = read(tarOf(format), 100);
      assert.equal(link.header.type, "symlink", format);
      assert.equal(link.header.linkname, "t".repeat(150), format);
      assert.equal(file.header.name, long, format);
      assert.equal(file.data, "x".repeat(1000), format);
      assert.equal(Math.floor(file.header.mtime), 1234567890, format);
    }
    assert.equal(read(tarOf("pax"))[1].header.mtime, 1234567890.25);
    // GNU tar writes an id past 8^7 in base-256.
    const big = read(tarOf("gnu", "--owner=:4294967294"))[0];
    assert.equal(big.header.uid, 4294967294);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a broken archive is refused", async () => {
  const tar = await makeTar([{ name: "f", data: new Uint8Array(1000) }]);
  assert.throws(() => read(tar.subarray(0, 700)), /unexpected end of data/);
  const bad = tar.slice();
  bad[10] ^= 1;
  assert.throws(() => read(bad), /invalid tar header/);
  assert.throws(
    () => read(new TextEncoder().encode("not a tar ".repeat(100))),
    /invalid tar header/,
  );
});
