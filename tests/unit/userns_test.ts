/** --userns auto's ranges and the ACL that lets a container's root search a directory. */
import { assertEquals, assertThrows } from "../assert.ts";
import { autoRanges, idsNamed } from "../../src/container/namespaces.ts";
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

Deno.test("--userns auto: first fit after the ranges taken, forced ids apart", () => {
  const first = autoRanges({ kind: "auto" }, BASE, [], 0);
  assertEquals(first.uidmap, [{ container: 0, host: 1, size: 1024 }]);
  const taken = [...first.uidmap!, { container: 0, host: 2000, size: 10 }];
  const second = autoRanges({ kind: "auto", size: 500 }, BASE, taken, 0);
  assertEquals(second.gidmap, [{ container: 0, host: 1025, size: 500 }]);
  // Between the two taken ranges there is no room for 1024: after both.
  const third = autoRanges(
    {
      kind: "auto",
      uidmapping: [{ container: 0, host: 5000, size: 10 }],
    },
    BASE,
    taken,
    0,
  );
  assertEquals(third.uidmap, [
    { container: 10, host: 2010, size: 1014 },
    { container: 0, host: 5000, size: 10 },
  ]);
  assertEquals(third.gidmap, [{ container: 0, host: 2010, size: 1024 }]);
  // The image's ids, when more than the minimum.
  assertEquals(
    autoRanges({ kind: "auto" }, BASE, [], 3000).uidmap![0].size,
    3000,
  );
  assertThrows(
    () => autoRanges({ kind: "auto", size: 70000 }, BASE, [], 0),
    /^creating container storage: could not find enough available IDs$/,
  );
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
