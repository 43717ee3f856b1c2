/**
 * Extended attributes of layer files survive `ptd import`, `save`/`load`
 * and push/pull as the bytes the image holds: a file capability as
 * `setcap cap_net_raw+ep` writes it (v2) and a binary `user.*` value.
 * Rootless the capability lands in the kernel's v3 form bound to the user
 * namespace's root (the user's own uid on the host), and a container's
 * process gains it on exec.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { lgetxattrBytes } from "../../ffi/fs.ts";
import { busyboxEntries, makeTar } from "../fixtures.ts";
import { ROOTLESS, type Sandbox } from "../helpers.ts";
import { files, ok, sandboxFor, startRegistry } from "../registry.ts";
import { PATH } from "../busybox_image.ts";

const CAP_NET_RAW = 13;
/** Little-endian u32s. */
const le32 = (...words: number[]) =>
  new Uint8Array(new Uint32Array(words).buffer);
/** VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, permitted cap_net_raw. */
const CAP_V2 = le32(0x02000001, 1 << CAP_NET_RAW, 0, 0, 0);
/** The same in v3 form, bound to the namespace whose root is `rootid`. */
const capV3 = (rootid: number) =>
  le32(0x03000001, 1 << CAP_NET_RAW, 0, 0, 0, rootid);
const USER_FOO = new Uint8Array([0xff, 0x00, 0x0a, 0x3d, 0x80, 0x7f]);

/** The capability ptd must leave on the host side of the layer. */
function expectedCap(): Uint8Array {
  return ROOTLESS ? capV3(Deno.uid()!) : CAP_V2;
}

/** A busybox image whose /opt/cat (busybox itself) has both xattrs. */
async function imageTar(path: string): Promise<string> {
  Deno.writeFileSync(
    path,
    await makeTar([...busyboxEntries(), { name: "opt", type: "directory" }, {
      name: "opt/cat",
      mode: 0o755,
      data: Deno.readFileSync("/bin/busybox"),
      xattrs: { "security.capability": CAP_V2, "user.foo": USER_FOO },
    }]),
  );
  return path;
}

/** Asserts the xattrs of /opt/cat in the image's only layer directory. */
function checkLayer(sb: Sandbox, what: string) {
  const layers = files(`${sb.env.PTD_ROOT}/layers`);
  assertEquals(layers.length, 1, what);
  const cat = `${sb.env.PTD_ROOT}/layers/${layers[0]}/opt/cat`;
  assertEquals(lgetxattrBytes(cat, "user.foo"), USER_FOO, what);
  assertEquals(
    lgetxattrBytes(cat, "security.capability"),
    expectedCap(),
    what,
  );
}

Deno.test("xattrs and file capabilities survive import, load and pull", async () => {
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    const tar = await imageTar(`${sb.dir}/rootfs.tar`);
    await ok(sb, ["import", "--change", `ENV PATH=${PATH}`, tar, "xcap:1"]);
    checkLayer(sb, "import");

    // uid 1000 has no capability but what the file gives it on exec.
    const status = await ok(sb, [
      "run",
      "--rm",
      "-u",
      "1000",
      "xcap:1",
      "/opt/cat",
      "/proc/self/status",
    ]);
    assertMatch(status, /^CapEff:\s*0000000000002000$/m);

    const archive = `${sb.dir}/saved.tar`;
    await ok(sb, ["save", "-o", archive, "xcap:1"]);
    await ok(sb, ["rmi", "xcap:1"]);
    assertEquals(files(`${sb.env.PTD_ROOT}/layers`), []);
    await ok(sb, ["load", "-i", archive]);
    checkLayer(sb, "load");

    await ok(sb, ["push", "xcap:1", `${reg.host}/test/xcap:1`]);
    await ok(sb, ["rmi", "xcap:1"]);
    assert(files(`${sb.env.PTD_ROOT}/layers`).length === 0);
    await ok(sb, ["pull", "-q", `${reg.host}/test/xcap:1`]);
    checkLayer(sb, "pull");
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});
