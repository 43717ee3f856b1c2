import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  cleanDestination,
  parseMountFlag,
  parseMountFlags,
  parseTmpfsFlag,
  parseVolumeFlag,
  planMounts,
} from "../../src/container/mounts.ts";

Deno.test("-v: named volume, bind, anonymous, options", () => {
  assertEquals(parseVolumeFlag("data:/srv/data:ro"), {
    type: "volume",
    source: "data",
    destination: "/srv/data",
    readonly: true,
    noCopy: false,
  });
  assertEquals(parseVolumeFlag("/host/dir/:/mnt//x/"), {
    type: "bind",
    source: "/host/dir",
    destination: "/mnt/x",
    readonly: false,
  });
  assertEquals(parseVolumeFlag("/cache"), {
    type: "volume",
    source: "",
    destination: "/cache",
    readonly: false,
    anonymous: true,
    noCopy: false,
  });
  const anonRo = parseVolumeFlag("/cache:ro,nocopy");
  assert(anonRo.anonymous && anonRo.readonly && anonRo.noCopy);
  assertEquals(parseVolumeFlag("v:/x:rw,z").readonly, false);
});

Deno.test("-v: bad input is refused with one line", () => {
  const bad: [string, RegExp][] = [
    ["./data:/x", /relative host path "\.\/data"/],
    ["data/sub:/x", /relative host path "data\/sub"/],
    ["v:/proc", /inside \/proc/],
    ["v:/proc/sys/x", /inside \/proc/],
    ["v:/x:rx", /unknown mount option "rx"/],
    ["v:x", /unknown mount option "x"/],
    ["relative", /must be an absolute path/],
    ["a:/b:ro:extra", /too many colons/],
    ["-bad:/x", /not a valid volume name/],
    ["v:/", /cannot be "\/"/],
    [":/x", /empty source/],
    ["v:", /must be an absolute path/],
    ["/h:/x:nocopy", /volumes only/],
  ];
  for (const [spec, re] of bad) {
    const e = assertThrows(() => parseVolumeFlag(spec), re);
    assert(!e.message.includes("\n"), spec);
  }
});

Deno.test("--mount: Docker's keys and aliases", () => {
  assertEquals(
    parseMountFlag("type=bind,source=/h,target=/c,readonly"),
    { type: "bind", source: "/h", destination: "/c", readonly: true },
  );
  assertEquals(parseMountFlag("type=volume,src=v,dst=/d,ro=false"), {
    type: "volume",
    source: "v",
    destination: "/d",
    readonly: false,
    noCopy: false,
  });
  const anon = parseMountFlag("destination=/d,volume-nocopy");
  assert(anon.type === "volume" && anon.anonymous && anon.noCopy);
  assertEquals(
    parseMountFlag("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777"),
    {
      type: "tmpfs",
      source: "",
      destination: "/t",
      readonly: false,
      data: "size=64m,mode=1777",
    },
  );
});

Deno.test("--mount type=devpts and type=image, as Podman takes them", () => {
  assertEquals(parseMountFlag("type=devpts,dst=/dev/p2,mode=620,max=9"), {
    type: "devpts",
    source: "",
    destination: "/dev/p2",
    readonly: false,
    data: "mode=620,max=9",
  });
  assertEquals(parseMountFlag("type=image,src=alpine,dst=/img"), {
    type: "image",
    source: "alpine",
    destination: "/img",
    readonly: true,
  });
  assertEquals(
    parseMountFlag("type=image,src=alpine,dst=/img,rw=true").readonly,
    false,
  );
});

Deno.test("--mount: bad input is refused", () => {
  const bad: [string, RegExp][] = [
    ["type=bind,src=rel,dst=/x", /relative host path/],
    ["type=bind,dst=/x", /needs a source/],
    ["type=tmpfs,src=/a,dst=/x", /no source/],
    ["type=nfs,dst=/x", /^invalid filesystem type "nfs"$/],
    ["type=ramfs,dst=/x", /^invalid filesystem type "ramfs"$/],
    ["type=devpts,src=/a,dst=/x", /no source/],
    ["type=devpts,dst=/x,mode=abc", /invalid mode/],
    ["type=bind,src=/a,dst=/x,max=4", /devpts options do not apply/],
    ["type=image,dst=/x", /needs a source/],
    ["type=volume,dst=/x,color=red", /unknown mount option "color"/],
    ["type=volume,src=v", /target is required/],
    ["type=bind,src=/a,dst=/x,tmpfs-size=1m", /tmpfs options do not apply/],
    ["type=tmpfs,dst=/x,tmpfs-mode=999", /invalid mode/],
    ["type=volume,dst=/proc", /inside \/proc/],
    ["dst=/x,readonly=maybe", /invalid value for readonly/],
  ];
  for (const [spec, re] of bad) assertThrows(() => parseMountFlag(spec), re);
});

Deno.test("--tmpfs: options become mount data; unknown ones are refused", () => {
  assertEquals(parseTmpfsFlag("/run:size=64m,mode=1777,nosuid"), {
    type: "tmpfs",
    source: "",
    destination: "/run",
    readonly: false,
    data: "size=64m,mode=1777",
  });
  assert(parseTmpfsFlag("/ro:ro").readonly);
  assertThrows(() => parseTmpfsFlag("/x:noexec"), /unknown mount option/);
  assertThrows(() => parseTmpfsFlag("/x:size=lots"), /invalid size/);
  assertThrows(() => parseTmpfsFlag("/proc/x"), /inside \/proc/);
});

Deno.test("destinations are cleaned before the /proc check", () => {
  assertEquals(cleanDestination("/a/./b/../c/", "x"), "/a/c");
  assertThrows(() => cleanDestination("/x/../proc", "x"), /inside \/proc/);
  assertEquals(cleanDestination("/process", "x"), "/process");
});

Deno.test("planMounts: image volumes and read-only tmpfs fill only free places", () => {
  const user = parseMountFlags({
    volume: ["data:/data", "/host:/run"],
    mount: [],
    tmpfs: [],
  });
  const all = planMounts(user, {
    readOnlyTmpfs: true,
    imageVolumes: ["/data", "/var/lib/db"],
  });
  assertEquals(all.map((m) => `${m.type} ${m.destination}`), [
    "volume /data",
    "bind /run",
    "volume /var/lib/db",
    "tmpfs /tmp",
    "tmpfs /var/tmp",
  ]);
  // a writable root gets no tmpfs of ptd's
  assertEquals(
    planMounts(user, { readOnlyTmpfs: false, imageVolumes: [] }),
    user,
  );
  const anon = all[2];
  assert(anon.anonymous && /^[0-9a-f]{64}$/.test(anon.source));
  assertThrows(
    () =>
      planMounts([...user, ...user], {
        readOnlyTmpfs: false,
        imageVolumes: [],
      }),
    /duplicate mount destination \/data/,
  );
  assertThrows(
    () => planMounts([], { readOnlyTmpfs: false, imageVolumes: ["/proc/x"] }),
    /inside \/proc/,
  );
});
