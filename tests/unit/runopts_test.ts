/** The pure parts of run/create's Podman options: limits, namespaces, hosts. */
import { assertEquals, assertThrows } from "../assert.ts";
import { parseShmSize, parseUlimit } from "../../src/container/limits.ts";
import {
  checkUserns,
  parseIpc,
  parseUserns,
  usernsMaps,
} from "../../src/container/namespaces.ts";
import { hostsFile } from "../../src/network/etc.ts";
import { compose } from "../../src/runtime/idmap.ts";

Deno.test("--ulimit: name=SOFT[:HARD] with Podman's errors", () => {
  assertEquals(parseUlimit("nofile=1024:2048"), {
    name: "nofile",
    soft: 1024,
    hard: 2048,
  });
  assertEquals(parseUlimit("nproc=100"), {
    name: "nproc",
    soft: 100,
    hard: 100,
  });
  assertEquals(parseUlimit("core=-1").hard, -1);
  assertThrows(
    () => parseUlimit("bogus=1"),
    /^ulimit option "bogus=1" requires name=SOFT:HARD, failed to be parsed: invalid ulimit type: bogus$/,
  );
  assertThrows(
    () => parseUlimit("nofile=a"),
    /strconv.ParseInt: parsing "a": invalid syntax/,
  );
  assertThrows(() => parseUlimit("nofile=10:5"), /soft limit/);
});

Deno.test("--shm-size: binary units; bad sizes refused", () => {
  assertEquals(parseShmSize("1m"), 1048576);
  assertEquals(parseShmSize("64MB"), 64 * 1048576);
  assertEquals(parseShmSize("1024"), 1024);
  assertThrows(
    () => parseShmSize("x"),
    /^unable to translate --shm-size: invalid size: 'x'$/,
  );
});

Deno.test("--ipc and --userns values, Podman's error for the rest", () => {
  assertEquals(parseIpc("host"), "host");
  assertEquals(parseIpc("none"), "none");
  assertThrows(
    () => parseIpc("bogus"),
    /^unrecognized namespace mode bogus passed$/,
  );
  assertEquals(parseUserns("keep-id:uid=5,gid=6"), {
    kind: "keep-id",
    uid: 5,
    gid: 6,
  });
  assertEquals(parseUserns("", ["0:0:1"]).gidmap, [
    { container: 0, host: 0, size: 1 },
  ]);
  assertThrows(
    () => parseUserns("bogus"),
    /^unrecognized namespace mode bogus passed$/,
  );
});

const BASE = {
  uid: [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 65536 },
  ],
  gid: [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 65536 },
  ],
};

Deno.test("--userns keep-id: Podman's layout, over host ids", () => {
  const maps = usernsMaps({ kind: "keep-id", uid: 5, gid: 6 }, BASE)!;
  assertEquals(maps.uid, [
    { container: 0, host: 100000, size: 5 },
    { container: 5, host: 1001, size: 1 },
    { container: 6, host: 100005, size: 65531 },
  ]);
  assertEquals(maps.gid[1], { container: 6, host: 1001, size: 1 });
  assertEquals(usernsMaps({ kind: "host" }, BASE), undefined);
  assertThrows(
    () => usernsMaps({ kind: "nomap" }, BASE),
    /without your own uid and gid.*: permission denied$/,
  );
  // An image's root is re-owned instead.
  assertEquals(usernsMaps({ kind: "nomap" }, BASE, false)!.uid, [
    { container: 0, host: 100000, size: 65536 },
  ]);
});

Deno.test("--userns at create: the ranges are checked, the rest waits for start", () => {
  checkUserns({ kind: "nomap" }, BASE);
  checkUserns({ kind: "ns", path: "/proc/self/ns/user" }, BASE);
  const wide = [{ container: 0, host: 0, size: 70000 }];
  assertThrows(
    () => checkUserns({ kind: "custom", uidmap: wide, gidmap: wide }, BASE),
    /^--userns: id 65537 is not among the 65537 ids this user may map$/,
  );
  assertThrows(
    () => usernsMaps({ kind: "ns", path: "/proc/self/ns/user" }, BASE),
    /^cannot join user namespace \/proc\/self\/ns\/user/,
  );
});

Deno.test("--uidmap ranges are split where the user's ranges end", () => {
  const two = [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 10 },
    { container: 11, host: 300000, size: 100 },
  ];
  assertEquals(compose([{ container: 0, host: 0, size: 20 }], two), [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 10 },
    { container: 11, host: 300000, size: 9 },
  ]);
  assertThrows(() => compose([{ container: 0, host: 100, size: 20 }], two));
});

Deno.test("/etc/hosts in Podman's layout", () => {
  assertEquals(
    hostsFile({
      addHosts: ["db:10.0.0.5", "box:10.0.0.6"],
      base: "127.0.0.1 localhost\n# comment\n127.0.0.1 vm\n",
      hostIp: "192.0.2.2",
      self: { ip: "10.0.2.100", names: ["box", "web"] },
    }),
    "10.0.0.5\tdb\n10.0.0.6\tbox\n127.0.0.1\tlocalhost\n127.0.0.1\tvm\n" +
      "192.0.2.2\thost.containers.internal\n10.0.2.100\tweb\n",
  );
  assertEquals(
    hostsFile({ addHosts: [], base: "" }),
    "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
  );
});
