/** --userns auto's ranges and the ACL that lets a container's root search a directory. */
import { assertEquals, assertThrows } from "../assert.ts";
import {
  autoRanges,
  heldRanges,
  idsNamed,
} from "../../src/container/namespaces.ts";
import { idMapsFor } from "../../src/runtime/idmap.ts";
import { withSearch } from "../../src/runtime/reach.ts";

/** A user 1001 with 65536 subordinate ids from 100000. */
const BASE = idMapsFor(
  1001,
  1001,
  (path) =>
    path === "/etc/passwd"
      ? "me:x:1001:1001::/home/me:/bin/sh\n"
      : "me:100000:65536\n",
);

Deno.test("--userns auto: uids and gids each first fit around what is held, forced ids apart", () => {
  const none = { uid: [], gid: [] };
  const first = autoRanges({ kind: "auto" }, BASE, none, 0);
  assertEquals(first.uidmap, [{ container: 0, host: 1, size: 1024 }]);
  const second = autoRanges(
    { kind: "auto", size: 500 },
    BASE,
    heldRanges(first, BASE),
    0,
  );
  assertEquals(second.gidmap, [{ container: 0, host: 1025, size: 500 }]);
  // Podman's layout with --uidmap 0:1:100 --gidmap 0:200:50 held: the gids
  // split around the held stretch.
  const held = heldRanges({
    kind: "custom",
    uidmap: [{ container: 0, host: 1, size: 100 }],
    gidmap: [{ container: 0, host: 200, size: 50 }],
  }, BASE);
  const split = autoRanges({ kind: "auto" }, BASE, held, 0);
  assertEquals(split.uidmap, [{ container: 0, host: 101, size: 1024 }]);
  assertEquals(split.gidmap, [
    { container: 0, host: 1, size: 199 },
    { container: 199, host: 250, size: 825 },
  ]);
  const forced = autoRanges(
    {
      kind: "auto",
      uidmapping: [{ container: 0, host: 5000, size: 10 }],
    },
    BASE,
    none,
    0,
  );
  assertEquals(forced.uidmap, [
    { container: 10, host: 1, size: 1014 },
    { container: 0, host: 5000, size: 10 },
  ]);
  // The image's ids, when more than the minimum.
  assertEquals(
    autoRanges({ kind: "auto" }, BASE, none, 3000).uidmap![0].size,
    3000,
  );
  // nomap holds every subordinate id.
  for (const size of [70000, 1]) {
    assertThrows(
      () =>
        autoRanges(
          { kind: "auto", size },
          BASE,
          size === 1 ? heldRanges({ kind: "nomap" }, BASE) : none,
          0,
        ),
      /^creating container storage: could not find enough available IDs$/,
    );
  }
});

Deno.test("--userns auto: the image's ids, nobody left out", () => {
  assertEquals(
    idsNamed(
      "root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1500:1500::/:/bin/sh\n",
      "root:x:0:\napp:x:1700:\n",
    ),
    1701,
  );
  assertEquals(idsNamed(undefined, undefined), 0);
  // -u's numeric ids count; a name is the image's to know.
  assertEquals(idsNamed("", "", "5:2000"), 2001);
  assertEquals(idsNamed("", "", "bob"), 0);
});

/** The ACL entries of a blob: [tag, perm, id]. */
function entries(blob: Uint8Array): number[][] {
  const v = new DataView(blob.buffer);
  const out = [];
  for (let at = 4; at < blob.length; at += 8) {
    out.push([
      v.getUint16(at, true),
      v.getUint16(at + 2, true),
      v.getUint32(at + 4, true),
    ]);
  }
  return out;
}

Deno.test("reach: a 0700 directory lets one more id search it, and only that", () => {
  const none = 0xffffffff;
  const acl = withSearch(0o40700, undefined, 100000)!;
  assertEquals(new DataView(acl.buffer).getUint32(0, true), 2);
  assertEquals(entries(acl), [
    [1, 7, none], // the owner
    [2, 1, 100000], // the container's root: search
    [4, 0, none], // the group: nothing, whatever the mask
    [0x10, 1, none],
    [0x20, 0, none],
  ]);
  // Once there, nothing to do; another id is added beside it.
  assertEquals(withSearch(0o40710, acl, 100000), undefined);
  assertEquals(entries(withSearch(0o40710, acl, 200000)!)[2], [2, 1, 200000]);
});
