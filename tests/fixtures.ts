/**
 * Test images for everyone, built from what the host has instead of pulled:
 * a busybox layer from the busybox-static package, a Debian minbase rootfs
 * made once by tests/make-minbase.sh (debootstrap needs real root), and the
 * tar writer the hostile-layer corpus uses.
 */
import tar, { type Header } from "tar-stream";
import { PAX_XATTR, paxEntry, paxRecords } from "../src/image/pax.ts";

/**
 * One entry of a tarball built in a test; `data` for regular files,
 * `xattrs` as the pax records `SCHILY.xattr.NAME` hold them: raw bytes.
 */
export type TarEntry = Partial<Header> & {
  name: string;
  data?: Uint8Array;
  xattrs?: Record<string, Uint8Array>;
};

/** The archive tar-stream writes for `entries`, without its end blocks. */
async function packed(entries: TarEntry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  for (const { data, xattrs: _, ...header } of entries) {
    const h = { mtime: new Date(0), uid: 0, gid: 0, ...header };
    if (data) pack.entry({ ...h, size: data.length }, data);
    else pack.entry(h);
  }
  pack.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  return concat(chunks).subarray(0, -1024);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** A tar archive of `entries`, in order, exactly as given: names are not
 * cleaned, so hostile ones stay hostile. */
export async function makeTar(entries: TarEntry[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let run: TarEntry[] = [];
  for (const e of entries) {
    if (!e.xattrs) {
      run.push(e);
      continue;
    }
    parts.push(await packed(run));
    run = [e];
    const records = Object.entries(e.xattrs).map((
      [k, v],
    ) => [`${PAX_XATTR}${k}`, v]);
    parts.push(paxEntry(paxRecords(Object.fromEntries(records))));
  }
  parts.push(await packed(run), new Uint8Array(1024));
  return concat(parts);
}

/** Where the busybox-static package puts its binary. */
export const BUSYBOX = "/bin/busybox";

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
`;

/**
 * The entries of a busybox image's single layer: /bin/busybox, a symlink per
 * applet where busybox installs it (so /bin/sh works), /etc/passwd and
 * /etc/group, /root, and a sticky /tmp.
 */
export function busyboxEntries(): TarEntry[] {
  const list = new Deno.Command(BUSYBOX, { args: ["--list-full"] })
    .outputSync();
  if (!list.success) throw new Error(`${BUSYBOX} --list-full failed`);
  const applets = new TextDecoder().decode(list.stdout).split("\n")
    .filter((p) => p && p !== "bin/busybox");
  const dirs = new Set(["bin", "etc", "root", "tmp"]);
  for (const a of applets) {
    const parts = a.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      dirs.add(parts.slice(0, i).join("/"));
    }
  }
  const enc = new TextEncoder();
  return [
    ...[...dirs].sort().map((d): TarEntry => ({
      name: d,
      type: "directory",
      mode: d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755,
    })),
    {
      name: "bin/busybox",
      mode: 0o755,
      data: Deno.readFileSync(BUSYBOX),
    },
    ...applets.map((a): TarEntry => ({
      name: a,
      type: "symlink",
      mode: 0o777,
      linkname: "../".repeat(a.split("/").length - 1) + "bin/busybox",
    })),
    { name: "etc/passwd", mode: 0o644, data: enc.encode(PASSWD) },
    { name: "etc/group", mode: 0o644, data: enc.encode(GROUP) },
  ];
}

/** Writes the busybox layer (plain tar) to `path` and returns `path`. */
export async function busyboxLayer(path: string): Promise<string> {
  await Deno.writeFile(path, await makeTar(busyboxEntries()));
  return path;
}

/** The cache the test runner fills as root (tests/make-minbase.sh). */
export function testCache(): string {
  return Deno.env.get("PTD_TEST_CACHE") || "/var/tmp/ptd-test-cache";
}

/**
 * The Debian bookworm minbase rootfs tarball (numeric owners), or undefined
 * when the runner has not made it; tests then skip with `MINBASE_MISSING`.
 */
export function minbaseTar(): string | undefined {
  const path = `${testCache()}/minbase.tar`;
  try {
    return Deno.statSync(path).size > 0 ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Why minbase tests are skipped, for the skip message. */
export const MINBASE_MISSING =
  `no minbase fixture: run (as root) tests/make-minbase.sh ${testCache()}/minbase.tar`;
