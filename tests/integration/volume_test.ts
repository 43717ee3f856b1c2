/**
 * Issue 6's "done when", rootless, as a new user would try it: volumes,
 * binds and tmpfs mounts on a small busybox root file system.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  ptd,
  type Result,
  ROOTLESS,
  type Sandbox,
  sandbox,
} from "../helpers.ts";
import { MINBASE_MISSING, minbaseTar } from "../fixtures.ts";

const APPLETS = "sh cat echo ls stat touch chown true".split(" ");

/** A root of our own: busybox, its applets, and an /etc worth copying. */
function makeRoot(sb: Sandbox): string {
  const root = `${sb.dir}/rootfs`;
  Deno.mkdirSync(`${root}/bin`, { recursive: true });
  Deno.mkdirSync(`${root}/etc`);
  Deno.mkdirSync(`${root}/tmp`);
  Deno.copyFileSync("/bin/busybox", `${root}/bin/busybox`);
  for (const a of APPLETS) Deno.symlinkSync("busybox", `${root}/bin/${a}`);
  Deno.writeTextFileSync(`${root}/etc/passwd`, "root:x:0:0::/:/bin/sh\n");
  Deno.chmodSync(`${root}/etc/passwd`, 0o600);
  Deno.writeTextFileSync(`${root}/etc/motd`, "from the image\n");
  return root;
}

/** One test's world: its store, its root, and ptd. */
interface World {
  sb: Sandbox;
  root: string;
  /** `ptd run [--rm] FLAGS --rootfs ROOT CMD...`. */
  run(flags: string[], ...cmd: string[]): Promise<Result>;
  /** `ptd ARGS`, which must succeed; returns stdout. */
  ok(...args: string[]): Promise<string>;
  /** The host directory of a volume's data. */
  data(name: string): string;
}

function ok(r: Result): string {
  assertEquals(r.code, 0, r.stderr);
  return r.stdout;
}

function test(name: string, fn: (w: World) => Promise<void>, skip = false) {
  Deno.test({
    name,
    ignore: !ROOTLESS || skip,
    fn: async () => {
      const sb = await sandbox();
      const root = makeRoot(sb);
      try {
        await fn({
          sb,
          root,
          run: (flags, ...cmd) =>
            ptd(sb, ["run", "--rm", ...flags, "--rootfs", root, ...cmd]),
          ok: async (...args) => ok(await ptd(sb, args)),
          data: (name) => `${sb.env.PTD_ROOT}/volumes/${name}/_data`,
        });
      } finally {
        await sb.cleanup();
      }
    },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function refused(r: Result, why: string) {
  assert(r.code !== 0, "expected a failure");
  assertStringIncludes(r.stderr, why);
}

test("a named volume outlives its container; owners map to the user and the subuid range", async (w) => {
  const out = ok(
    await w.run(
      ["-v", "data:/data"],
      "sh",
      "-c",
      "echo kept > /data/f; touch /data/u; chown 1000:1000 /data/u; cat /proc/self/uid_map",
    ),
  );
  // uid_map's second line: container uid 1 starts the subuid range.
  const subStart = Number(out.trim().split("\n")[1].trim().split(/\s+/)[1]);
  assertEquals(ok(await w.run(["-v", "data:/d:ro"], "cat", "/d/f")), "kept\n");
  assertEquals(Deno.statSync(`${w.data("data")}/f`).uid, Deno.uid());
  assertEquals(Deno.statSync(`${w.data("data")}/u`).uid, subStart + 999);
  // A subuid-owned file does not stop `volume rm`.
  await w.ok("volume", "rm", "data");
  assert(!(await exists(`${w.sb.env.PTD_ROOT}/volumes/data`)));
});

test("binds: :ro refuses writes inside; a rw bind writes as the user", async (w) => {
  const host = `${w.sb.dir}/host`;
  Deno.mkdirSync(host);
  refused(
    await w.run(["-v", `${host}:/h:ro`], "touch", "/h/x"),
    "Read-only file system",
  );
  assert(!(await exists(`${host}/x`)));
  const bind = `type=bind,src=${host},dst=/h`;
  ok(await w.run(["--mount", bind], "touch", "/h/y"));
  assertEquals(Deno.statSync(`${host}/y`).uid, Deno.uid());
});

test("--tmpfs data vanishes with the container", async (w) => {
  const run = (cmd: string) =>
    w.run(["--tmpfs", "/scratch:size=1m,mode=1777"], "sh", "-c", cmd);
  const first = "echo x > /scratch/a && stat -c %a /scratch && cat /scratch/a";
  assertEquals(ok(await run(first)), "1777\nx\n");
  assertEquals(ok(await run("ls -A /scratch")), "");
});

test("--read-only: / is read-only, volumes and the read-only tmpfs stay writable", async (w) => {
  const run = (flags: string[], cmd: string) =>
    w.run(["--read-only", ...flags, "-v", "rw:/data"], "sh", "-c", cmd);
  refused(await run([], "touch /x"), "Read-only file system");
  ok(await run([], "touch /data/y /tmp/y /var/tmp/y /run/y"));
  assert(await exists(`${w.data("rw")}/y`));
  refused(
    await run(["--read-only-tmpfs=false"], "touch /tmp/y"),
    "Read-only file system",
  );
});

test("a new volume on a populated path is filled from the root file system", async (w) => {
  // A file of a subordinate uid in the source, as image layers have.
  const src = ["-v", `${w.root}/etc:/src`];
  ok(await w.run(src, "chown", "1000:1000", "/src/motd"));
  const out = ok(
    await w.run(
      ["-v", "etc:/etc"],
      "sh",
      "-c",
      "cat /etc/motd; stat -c '%a %u' /etc/passwd; stat -c %u:%g /etc/motd; cat /etc/hostname",
    ),
  );
  const [motd, passwd, owner, hostname] = out.trim().split("\n");
  assertEquals([motd, passwd, owner], ["from the image", "600 0", "1000:1000"]);
  assert(hostname.length > 0, "ptd's /etc files are mounted over the volume");
  // Not refilled: what a container changed is what the next one sees.
  Deno.removeSync(`${w.data("etc")}/motd`);
  refused(await w.run(["-v", "etc:/etc"], "ls", "/etc/motd"), "motd");
});

test("volume create/ls/inspect/rm/prune; rm of an in-use volume is refused", async (w) => {
  await w.ok("volume", "create", "--label", "tier=db", "made");
  assertEquals((await ptd(w.sb, ["volume", "create", "made"])).code, 125);
  // Without --rm the exited container stays, and keeps using its volume.
  await w.ok(
    "run",
    "--name",
    "user",
    "-v",
    "used:/d",
    "--rootfs",
    w.root,
    "true",
  );
  assertEquals(await w.ok("volume", "ls", "-q"), "made\nused\n");
  const header = (await w.ok("volume", "ls")).split("\n")[0];
  assertEquals(header.split(/\s{2,}/), ["DRIVER", "VOLUME NAME"]);
  const json = await w.ok("volume", "ls", "--format", "json");
  const [first] = JSON.parse(json);
  assertEquals([first.Name, first.Driver, first.Labels], [
    "made",
    "local",
    { tier: "db" },
  ]);
  const [inspected] = JSON.parse(await w.ok("volume", "inspect", "made"));
  assertEquals(inspected.Mountpoint, w.data("made"));
  const [mount] = JSON.parse(
    await w.ok("inspect", "--format", "{{json .Mounts}}", "user"),
  );
  assertEquals(
    [mount.Type, mount.Name, mount.Source, mount.Destination, mount.RW],
    ["volume", "used", w.data("used"), "/d", true],
  );
  const r = await ptd(w.sb, ["volume", "rm", "used"]);
  assertEquals(r.code, 2); // Podman's code for a volume in use
  assertStringIncludes(r.stderr, "is being used");
  assertEquals(r.stderr.trim().split("\n").length, 1);
  assertEquals(await w.ok("volume", "prune", "-f"), "made\n");
  assertEquals(await w.ok("volume", "ls", "-q"), "used\n");
  // -f removes the container that uses it too, as Podman does.
  await w.ok("volume", "rm", "-f", "used");
  assertEquals(await w.ok("volume", "ls", "-q"), "");
  assertEquals(await w.ok("ps", "-a", "-q"), "");
});

test("anonymous volumes go with run --rm; named ones stay", async (w) => {
  ok(await w.run(["-v", "/anon", "-v", "named:/n"], "touch", "/anon/f"));
  assertEquals(await w.ok("volume", "ls", "-q"), "named\n");
});

test("rm keeps volumes; rm -v takes the anonymous ones", async (w) => {
  const create = (name: string) =>
    w.ok(
      "run",
      "--name",
      name,
      "-v",
      "/anon",
      "-v",
      "named:/n",
      "--rootfs",
      w.root,
      "true",
    );
  const names = async () =>
    (await w.ok("volume", "ls", "-q")).trim().split("\n");
  await create("a");
  await create("b");
  await w.ok("rm", "a");
  assertEquals((await names()).length, 3);
  await w.ok("rm", "-v", "b");
  const left = await names();
  assertEquals(left.length, 2);
  assert(left.includes("named"));
});

test("bad mount input: one line, exit 125, nothing created", async (w) => {
  Deno.mkdirSync(`${w.sb.dir}/host`);
  const cases = [
    ["-v", "rel/dir:/x"],
    ["-v", "./dir:/x"],
    ["-v", `${w.sb.dir}/missing:/x`],
    ["-v", "newvol:/proc"],
    ["-v", "newvol:/proc/sys/x"],
    ["-v", "newvol:/x:bogus"],
    ["--mount", "type=volume,src=newvol,dst=/x,color=red"],
    ["--mount", "type=bind,src=dir,dst=/x"],
    ["--tmpfs", "/x:noexec"],
    ["-v", "newvol:/x", "-v", `${w.sb.dir}/host:/x`],
    ["--read-only-tmpfs=maybe"],
  ];
  for (const flags of cases) {
    const r = await w.run(flags, "true");
    assertEquals(r.code, 125, flags.join(" "));
    // One line; a flag's own error has cobra's "See 'ptd run --help'".
    const lines = r.stderr.trim().split("\n");
    assertEquals(
      lines.slice(1),
      lines[1]?.startsWith("See ") ? [lines[1]] : [],
    );
    assertEquals(r.stdout, "");
  }
  for (const dir of ["containers", "volumes"]) {
    const path = `${w.sb.env.PTD_ROOT}/${dir}`;
    const left = (await exists(path))
      ? [...Deno.readDirSync(path)].filter((e) => e.isDirectory)
      : [];
    assertEquals(left.map((e) => e.name), [], dir);
  }
});

if (!minbaseTar()) console.error(`SKIP Debian volume test: ${MINBASE_MISSING}`);

test("a Debian image's /etc fills a new volume with its owners", async (w) => {
  await w.ok("import", minbaseTar()!, "debian-minbase");
  const out = await w.ok(
    "run",
    "--rm",
    "-v",
    "etc:/etc",
    "debian-minbase",
    "stat",
    "-c",
    "%a %U:%G %n",
    "/etc/shadow",
    "/etc/debian_version",
  );
  assertEquals(out.split("\n").slice(0, 2), [
    "640 root:shadow /etc/shadow",
    "644 root:root /etc/debian_version",
  ]);
  // gid 42 (shadow) is a subordinate id on the host, not the user's.
  assert(Deno.statSync(`${w.data("etc")}/shadow`).gid !== Deno.gid());
}, !minbaseTar());

test("an image's VOLUME is an anonymous volume, filled from the image, gone with rm -v", async (w) => {
  const tar = `${w.sb.dir}/rootfs.tar`;
  const pack = new Deno.Command("tar", {
    args: ["--owner=0", "--group=0", "-C", w.root, "-cf", tar, "."],
  }).outputSync();
  assert(pack.success);
  await w.ok("import", "--change", "VOLUME /etc", tar, "with-volume");
  const motd = await w.ok(
    "run",
    "--name",
    "v",
    "with-volume",
    "cat",
    "/etc/motd",
  );
  assertEquals(motd, "from the image\n");
  const [anon] = (await w.ok("volume", "ls", "-q")).trim().split("\n");
  assert(/^[0-9a-f]{64}$/.test(anon), anon);
  await w.ok("rm", "-v", "v");
  assertEquals(await w.ok("volume", "ls", "-q"), "");
});
