/**
 * The single-id mapping (no subuid range) and newuidmap ranges, on real
 * cloned children; --userns modes whose maps differ from the user's own on
 * an image, side by side with Podman.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import { CLONE_NEWUSER } from "../../ffi/constants.ts";
import { cloneExec, exitCode, waitStatus } from "../../ffi/clone.ts";
import {
  type IdMaps,
  idMapsFor,
  writeIdMaps,
} from "../../src/runtime/idmap.ts";
import { ptd, type Result, ROOTLESS, withSandbox } from "../helpers.ts";
import { removeTrees } from "../../src/storage/remove.ts";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

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

const BB = "localhost/bb";

/** Columns 1 and 3 of the maps: host ids differ (Podman nests its own). */
const MAP = "awk '{print $1, $3}' /proc/self/uid_map /proc/self/gid_map";
/** What a container sees of its ids, users and the image's files' owners. */
const SEEN = `id; ${MAP}; tail -1 /etc/passwd; tail -1 /etc/group; ` +
  "ls -ln /bin/busybox /etc/passwd | awk '{print $3, $4, $NF}'; " +
  "stat -c '%u %g' / /tmp";

/** --userns values whose namespace is not the user's own map, on an image. */
const REMAPPED = [
  ["--userns", "nomap"],
  ["--userns", "auto"],
  ["--userns", "auto:size=1000"],
  ["--userns", "auto:uidmapping=0:5000:10"],
  ["--userns", "keep-id"],
  ["--userns", "keep-id:uid=7,gid=8"],
  ["--userns", "keep-id:gid=8"],
  ["--userns", "nomap", "--group-add", "9"],
  ["--userns", "nomap", "-u", "5:6"],
  ["--userns", "auto:size=2000", "-u", "1500:1600"],
  ["--userns", "auto", "-u", "5:2000"],
  ["--uidmap", "0:1:1000"],
  ["--uidmap", "0:2:500", "--gidmap", "0:0:500"],
];

/** Runs `fn` with both engines on a sandbox holding the busybox image. */
function withBusybox(
  fn: (engines: Record<"podman" | "ptd", Runner>) => Promise<void>,
): Promise<void> {
  return withSandbox(async (sb) => {
    await storeBusyboxForBoth(sb, "localhost/bb");
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, () => fn(engines));
  });
}

Deno.test({
  name:
    "userns: nomap, auto, keep-id and --uidmap on an image see the image's owners as Podman does",
  ignore: !ROOTLESS || !hasPodman(),
  fn: () =>
    withBusybox(async (engines) => {
      for (const opts of REMAPPED) {
        const args = ["run", "--rm", ...opts, BB, "sh", "-c"];
        const p = await engines.podman([...args, SEEN]);
        const t = await engines.ptd([...args, SEEN]);
        assertEquals(p.code, 0, `podman ${opts}: ${p.stderr}`);
        assertEquals(
          { code: t.code, out: t.stdout },
          { code: 0, out: p.stdout },
          `${opts.join(" ")}: ${t.stderr}`,
        );
      }
      // exec adds the mode's group, not the primary one of its -u.
      const execs: Record<string, string[]> = {};
      for (const [name, run] of Object.entries(engines)) {
        const d = ["run", "-d", "--name", "e", "--userns", "nomap", BB];
        assertEquals((await run([...d, "sleep", "60"])).code, 0);
        execs[name] = [
          (await run(["exec", "e", "id"])).stdout,
          (await run(["exec", "-u", "5:6", "e", "id"])).stdout,
        ];
        await run(["rm", "-f", "-t", "0", "e"]);
      }
      assertEquals(execs.ptd, execs.podman);
      // A user the namespace does not map: refused before it runs.
      for (
        const opts of [["auto", "-u", "nobody"], [
          "auto:size=100",
          "-u",
          "5:200",
        ]]
      ) {
        const args = ["run", "--rm", "--userns", ...opts, BB, "id"];
        const [p, t] = [await engines.podman(args), await engines.ptd(args)];
        assertEquals([t.code, t.stdout], [p.code, p.stdout]);
        assertEquals(t.code, 126);
        const kind = opts[2] === "nobody" ? "UID 65534" : "GID 200";
        assertStringIncludes(t.stderr, `but doesn't map ${kind}`);
        assertStringIncludes(p.stderr, `but doesn't map ${kind}`);
      }
    }),
});

/** The host ranges of a running container's uid map, over the user's ids. */
async function ranges(run: Runner, name: string): Promise<number[][]> {
  const out = await run(["exec", name, "cat", "/proc/self/uid_map"]);
  return out.stdout.trim().split("\n").map((l) =>
    l.trim().split(/\s+/).map(Number)
  );
}

/** What an auto container sees of its maps while `held` exists. */
async function autoBeside(run: Runner, held: string[]): Promise<Result> {
  assertEquals((await run(["create", "--name", "held", ...held])).code, 0);
  const r = await run(["run", "--rm", "--userns", "auto", BB, "sh", "-c", MAP]);
  await run(["rm", "-f", "held"]);
  return r;
}

Deno.test({
  name:
    "userns: auto containers get the first ids no other container's map holds, as in Podman; too big a size is refused",
  ignore: !ROOTLESS || !hasPodman(),
  fn: () =>
    withBusybox(async (engines) => {
      const seen: Record<string, number[][][]> = {};
      const beside: Record<string, Result[]> = {};
      for (const [name, run] of Object.entries(engines)) {
        for (const [c, size] of [["a1", "auto"], ["a2", "auto:size=500"]]) {
          const r = await run(
            ["run", "-d", "--name", c, "--userns", size, BB, "sleep", "60"],
          );
          assertEquals(r.code, 0, r.stderr);
        }
        seen[name] = [await ranges(run, "a1"), await ranges(run, "a2")];
        const big = await run(
          ["run", "--rm", "--userns", "auto:size=70000", BB, "true"],
        );
        assertEquals(big.code, 125);
        assertStringIncludes(big.stderr, "could not find enough available IDs");
        await run(["rm", "-f", "-t", "0", "a1", "a2"]);
        // gids go around the held ones; nomap holds every id.
        beside[name] = [
          await autoBeside(run, [
            "--uidmap",
            "0:1:100",
            "--gidmap",
            "0:200:50",
            BB,
            "true",
          ]),
          await autoBeside(run, ["--userns", "nomap", BB, "true"]),
        ];
      }
      for (const [a1, a2] of Object.values(seen)) {
        assertEquals([a1.length, a2.length], [1, 1]);
        assertEquals([a1[0][2], a2[0][2]], [1024, 500]);
        // a2 starts where a1 ends.
        assertEquals(a2[0][1], a1[0][1] + a1[0][2]);
      }
      // Over the user's ids, the same ranges (Podman's column 2 counts
      // from its own namespace, where 1 is the first subordinate id).
      const base = idMapsFor(Deno.uid()!, Deno.gid()!).uid[1].host - 1;
      assertEquals(
        seen.ptd.map((r) => r[0][1] - base),
        seen.podman.map((r) => r[0][1]),
      );
      const shown = (rs: Result[]) => rs.map((r) => [r.code, r.stdout]);
      assertEquals(shown(beside.ptd), shown(beside.podman));
      assertEquals(beside.ptd[0].stdout, "0 1024\n0 199\n199 825\n");
      assertEquals(beside.ptd[1].code, 125);
    }),
});

Deno.test({
  name:
    "userns: what a killed command left half-made is swept or mended by the next one, and image rm removes the copies",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      await storeBusyboxImage(sb, "localhost/bb");
      const layers = `${sb.env.PTD_ROOT}/layers`;
      const [layer] = [...Deno.readDirSync(layers)].map((e) => e.name);
      // What a build killed with SIGKILL leaves: a temp of a dead process.
      const dead = `${layers}/${layer}.reowned-0123456789abcdef.tmp-999999999`;
      Deno.mkdirSync(`${dead}/bin`, { recursive: true });
      const id = (await ptd(sb, ["create", "--userns", "nomap", BB, "true"]))
        .stdout.trim();
      // A create killed before its directories were its root's: mended at
      // start.
      await removeTrees([`${sb.env.PTD_ROOT}/containers/${id}/mnt`]);
      const run = await ptd(sb, ["start", "-a", id]);
      assertEquals(run.code, 0, run.stderr);
      assertEquals((await ptd(sb, ["rm", id])).code, 0);
      const copies = () =>
        [...Deno.readDirSync(layers)].filter((e) => e.name !== layer).map((
          e,
        ) => e.name);
      assertEquals(copies().length, 1);
      const [nomap] = copies();
      assertMatch(nomap, /\.reowned-[0-9a-f]{16}$/);
      // The next copy made drops those no container uses (auto maps are
      // each container's own).
      const auto = ["run", "--rm", "--userns", "auto:size=100", BB, "true"];
      assertEquals((await ptd(sb, auto)).code, 0);
      assertEquals(copies().length, 1);
      assert(copies()[0] !== nomap);
      // Collected with its layer, not before: removing another image of
      // the same layer leaves it.
      await storeBusyboxImage(sb, "localhost/other", { changes: ["USER 1"] });
      assertEquals((await ptd(sb, ["rmi", "localhost/other"])).code, 0);
      assertEquals(copies().length, 1);
      const rm = await ptd(sb, ["rmi", "localhost/bb"]);
      assertEquals(rm.code, 0, rm.stderr);
      assertEquals(copies(), []);
    }),
});
