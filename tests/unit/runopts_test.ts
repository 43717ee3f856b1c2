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
import {
  envMerge,
  expandWord,
  parsePersonality,
  parseUmask,
} from "../../src/container/process_opts.ts";
import { parseSharedNs } from "../../src/container/shared_ns.ts";
import { parseSecret } from "../../src/secret/use.ts";
import { fillPasswdEntry, withUserEntries } from "../../src/runtime/user.ts";
import { checkPushOptions } from "../../src/image/push.ts";

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

Deno.test("--env-merge: Dockerfile expansion over the defaults and the image's", () => {
  const env = new Map([["PATH", "/bin"], ["A", "x"], ["E", ""]]);
  assertEquals(expandWord("/opt:${PATH}", env), "/opt:/bin");
  assertEquals(expandWord("$A-$NOPE-${A}", env), "x--x");
  assertEquals(expandWord("${NOPE:-d} ${E:-d} ${A:-d}", env), "d d x");
  assertEquals(expandWord("${A:+set} ${NOPE:+set}.", env), "set .");
  // Only what the base has; PATH is there by default.
  assertEquals(
    envMerge(["TERM=xterm"], ["PATH=/opt:${PATH}", "NEW=1", "TERM=${TERM}2"]),
    [
      "PATH=/opt:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm2",
    ],
  );
  assertEquals(envMerge(["A=1"], ["A=$A$A", "A=${A}3"]), ["A=11", "A=113"]);
  assertEquals(envMerge(["A=1"], ["A"]), []);
});

Deno.test("--umask and --personality: Podman's checks", () => {
  assertEquals(parseUmask("0077"), "0077");
  assertEquals(parseUmask("7"), "7");
  for (const bad of ["999", "abc", "00777", ""]) {
    assertThrows(
      () => parseUmask(bad),
      new RegExp(`invalid umask string ${bad}: invalid argument`),
    );
  }
  assertEquals(parsePersonality("linux32"), "LINUX32");
  assertEquals(parsePersonality("LINUX"), "LINUX");
  assertThrows(() => parsePersonality("bsd"), /invalid personality bsd/);
});

Deno.test("--pid and --uts values, Podman's errors for the rest", () => {
  assertEquals(parseSharedNs(""), "private");
  assertEquals(parseSharedNs("private"), "private");
  assertEquals(parseSharedNs("host"), "host");
  assertEquals(parseSharedNs("container:db"), "container:db");
  assertEquals(parseSharedNs("ns:/proc/1/ns/pid"), "ns:/proc/1/ns/pid");
  assertThrows(
    () => parseSharedNs("ns:"),
    /namespace mode path requires a value/,
  );
  for (const bad of ["bogus", "container:", "none"]) {
    assertThrows(
      () => parseSharedNs(bad),
      new RegExp(`^unrecognized namespace mode ${bad} passed$`),
    );
  }
});

Deno.test("--secret: NAME[,type=,target=,uid=,gid=,mode=] with Podman's errors", () => {
  assertEquals(parseSecret("s"), {
    name: "s",
    id: "",
    type: "mount",
    target: "s",
    uid: 0,
    gid: 0,
    mode: 0o444,
  });
  assertEquals(parseSecret("s,type=env,target=FOO").target, "FOO");
  const owned = parseSecret("s,target=/etc/x,uid=5,gid=6,mode=0400");
  assertEquals([owned.uid, owned.gid, owned.mode], [5, 6, 0o400]);
  assertThrows(
    () => parseSecret("s,type=x"),
    /^type x is invalid: parsing secret$/,
  );
  assertThrows(
    () => parseSecret("s,x=1"),
    /^option x=1 invalid: parsing secret$/,
  );
  assertThrows(() => parseSecret("s,mode=9"), /option mode=9 invalid/);
  assertThrows(
    () => parseSecret("s,type=env,mode=0400"),
    /^UID, GID, Mode options cannot be set with secret type env: parsing secret$/,
  );
});

Deno.test("--passwd-entry: the template, only for a uid the file lacks", () => {
  const text = { passwd: "root:x:0:0::/root:/bin/sh\n", group: "root:x:0:\n" };
  const add = { passwd: [], group: [], numeric: true, home: "/w" };
  const entry = "$USERNAME:$UID:$GID:$NAME:$HOME:$OTHER";
  assertEquals(
    withUserEntries("7:8", text, { ...add, entry }).passwd,
    `${text.passwd}7:7:8:container user:/w:$OTHER\n`,
  );
  assertEquals(
    fillPasswdEntry("u$UID", { uid: "1", gid: "2", home: "/" }),
    "u1",
  );
  assertEquals(withUserEntries("0", text, { ...add, entry }).passwd, undefined);
  assertEquals(
    withUserEntries("7", text, { ...add, entry, numeric: false }).passwd,
    undefined,
  );
});

Deno.test("push --format and --compression-format: Podman's checks", () => {
  assertEquals(checkPushOptions(undefined, undefined), {
    format: undefined,
    compression: undefined,
  });
  assertEquals(checkPushOptions("v2s2", "gzip"), {
    format: "v2s2",
    compression: "gzip",
  });
  assertThrows(() => checkPushOptions("x", undefined), /unknown format "x"/);
  assertThrows(() => checkPushOptions("v2s1", undefined), /v2s1/);
  assertThrows(
    () => checkPushOptions(undefined, "lz4"),
    /^cannot find compressor for "lz4"$/,
  );
  assertThrows(() => checkPushOptions("v2s2", "zstd"), /zstd/);
});
