/** The single-id mapping (no subuid range) and newuidmap ranges, on real cloned children. */
import { assertEquals, assertMatch } from "../assert.ts";
import { CLONE_NEWUSER } from "../../ffi/constants.ts";
import { cloneExec, exitCode, waitStatus } from "../../ffi/clone.ts";
import {
  type IdMaps,
  idMapsFor,
  writeIdMaps,
} from "../../src/runtime/idmap.ts";
import { ROOTLESS } from "../helpers.ts";

async function mapsSeenInside(maps: IdMaps): Promise<string> {
  const out = await Deno.makeTempFile();
  try {
    const child = await cloneExec({
      flags: CLONE_NEWUSER,
      path: "/bin/sh",
      argv: [
        "sh",
        "-c",
        `{ cat /proc/self/uid_map; cat /proc/self/setgroups; id -u; } > ${out}`,
      ],
      env: [],
    });
    await writeIdMaps(child.pid, maps);
    child.release();
    assertEquals(exitCode(await waitStatus(child.pid)), 0);
    const text = await Deno.readTextFile(out);
    return text.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "))
      .join("\n");
  } finally {
    await Deno.remove(out);
  }
}

Deno.test({
  name:
    "idmap: without a range, the user maps itself alone and setgroups is denied",
  ignore: !ROOTLESS,
  fn: async () => {
    const uid = Deno.uid()!, gid = Deno.gid()!;
    const single = idMapsFor(uid, gid, () => "");
    assertEquals(single.single, true);
    assertEquals(await mapsSeenInside(single), `0 ${uid} 1\ndeny\n0`);
  },
});

Deno.test({
  name:
    "idmap: with a range, newuidmap/newgidmap map 0 to the user and 1.. to the range",
  ignore: !ROOTLESS,
  fn: async () => {
    const maps = idMapsFor(Deno.uid()!, Deno.gid()!);
    assertEquals(maps.single, false);
    assertMatch(
      await mapsSeenInside(maps),
      new RegExp(
        `^0 ${Deno.uid()} 1\\n1 ${maps.uid[1].host} ${
          maps.uid[1].size
        }\\nallow\\n0$`,
      ),
    );
  },
});
