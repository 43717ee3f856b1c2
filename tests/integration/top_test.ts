/**
 * Issue 12: `ptd top` shows the container's processes and nothing else, with
 * Podman's descriptors, headers and layout, and Podman's errors; compared
 * with podman top on the same root file system where podman is installed.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  busyboxRoot,
  ptd,
  type Result,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";
import { hasPodman, podmanOk, stopPodmanPause } from "../podman.ts";

function ok(r: Result): string {
  assertEquals(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A busybox root with ps and a user and group "nobody" beside root. */
function root(sb: Sandbox, ps = true): string {
  const dir = busyboxRoot(sb.dir, ps ? ["sleep", "ps"] : ["sleep"]);
  Deno.writeTextFileSync(
    `${dir}/etc/passwd`,
    "nobody:x:65534:65534:nobody:/:/bin/sh\n",
    { append: true },
  );
  Deno.writeTextFileSync(`${dir}/etc/group`, "nogroup:x:65534:\n", {
    append: true,
  });
  return dir;
}

/** Two processes: sh's child `sleep 1000` under `sleep 2000` as PID 1. */
const TWO = ["sh", "-c", "sleep 1000 & exec sleep 2000"];

/** A table's cells: columns are two or more spaces apart. */
const cells = (out: string) =>
  out.trimEnd().split("\n").map((l) => l.trim().split(/\s{2,}/));

/** Waits until `top` shows `n` processes. */
const settle = (sb: Sandbox, ref: string, n: number) =>
  until(async () =>
    cells(ok(await ptd(sb, ["top", ref, "pid"]))).length === n + 1
  );

Deno.test("top: Podman's default columns, the container's processes only", async () => {
  await withSandbox(async (sb) => {
    ok(
      await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", root(sb), ...TWO]),
    );
    await settle(sb, "c", 2);
    const rows = cells(ok(await ptd(sb, ["top", "c"])));
    assertEquals(rows[0], [
      "USER",
      "PID",
      "PPID",
      "%CPU",
      "ELAPSED",
      "TTY",
      "TIME",
      "COMMAND",
    ]);
    assertEquals(rows.length, 3);
    const [init, child] = rows.slice(1);
    assertEquals([init[0], init[1], init[2], init[5], init[7]], [
      "root",
      "1",
      "0",
      "?",
      "sleep 2000",
    ]);
    assertEquals([child[0], child[2], child[7]], ["root", "1", "sleep 1000"]);
    assertMatch(init[3], /^\d+\.\d{3}$/);
    assertMatch(init[4], /^[\d.]+(µs|ms|s)$/);
    assertEquals(init[6], "0s");

    // Every host pid shown is in the container's PID namespace.
    const hpids = cells(ok(await ptd(sb, ["top", "c", "hpid"]))).slice(1)
      .map((r) => r[0]);
    const ns = (pid: string) => Deno.readLinkSync(`/proc/${pid}/ns/pid`);
    assertEquals(hpids.length, 2);
    for (const p of hpids) assertEquals(ns(p), ns(hpids[0]));
    assert(ns(hpids[0]) !== ns("self"));

    // ps(1) options: ps runs in the container and sees nothing else.
    const ps = ok(await ptd(sb, ["top", "c", "aux"]));
    assertEquals(cells(ps).length, 3, ps);
    assert(!/deno|ptd/.test(ps), ps);
  });
});

Deno.test("top: users and groups named by the container's files, host ids by number", async () => {
  await withSandbox(async (sb) => {
    ok(
      await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", root(sb), ...TWO]),
    );
    ok(await ptd(sb, ["exec", "-d", "-u", "65534", "c", "sleep", "999"]));
    await settle(sb, "c", 3);
    const rows = cells(
      ok(
        await ptd(sb, [
          "top",
          "c",
          "user,ruser,group",
          "rgroup",
          "huser",
          "hgroup",
          "comm",
          "args",
        ]),
      ),
    );
    assertEquals(rows[0], [
      "USER",
      "RUSER",
      "GROUP",
      "RGROUP",
      "HUSER",
      "HGROUP",
      "COMMAND",
      "COMMAND",
    ]);
    const me = String(Deno.uid()), myGroup = String(Deno.gid());
    const byArgs = new Map(rows.slice(1).map((r) => [r[7], r]));
    assertEquals(byArgs.get("sleep 2000")!.slice(0, 7), [
      "root",
      "root",
      "root",
      "root",
      me,
      myGroup,
      "sleep",
    ]);
    const nobody = byArgs.get("sleep 999")!;
    assertEquals(nobody.slice(0, 4), [
      "nobody",
      "nobody",
      "nogroup",
      "nogroup",
    ]);
    // Mapped through the subordinate range: some other host id.
    assertMatch(nobody[4], /^\d+$/);
    assert(nobody[4] !== me);
  });
});

Deno.test("top: Podman's errors", async () => {
  await withSandbox(async (sb) => {
    const dir = root(sb);
    ok(await ptd(sb, ["create", "--name", "idle", "--rootfs", dir, "true"]));
    const idle = await ptd(sb, ["top", "idle"]);
    assertEquals(idle.code, 125);
    assertEquals(
      idle.stderr,
      "Error: top can only be used on running containers\n",
    );

    ok(
      await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", dir, ...TWO]),
    );
    const badOption = await ptd(sb, ["top", "c", "pid", "-o"]);
    assertEquals(badOption.code, 125);
    assertMatch(
      badOption.stderr,
      /^Error: executing ps\(1\) in the container: runtime failed with exit status: 1 and output: ps: option requires an argument -- 'o' [^\n]+\n$/,
    );
  });
  await withSandbox(async (sb) => {
    const noPs = root(sb, false);
    ok(await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", noPs, ...TWO]));
    // Not a descriptor, so Podman runs ps(1), which this container lacks.
    const r = await ptd(sb, ["top", "c", "bogus"]);
    assertEquals(r.code, 125);
    assertMatch(
      r.stderr,
      /^Error: executing ps\(1\) in the container: [^\n]*executable file not found in \$PATH[^\n]*\n$/,
    );
  });
});

/** Cells of `top` output with pids replaced by their rank (0 stays 0). */
function normalized(out: string, pidColumns: number[]): string[][] {
  const rows = cells(out);
  const pids = rows.slice(1).map((r) => Number(r[pidColumns[0]]))
    .sort((a, b) => a - b);
  const rank = (p: string) => p === "0" ? "0" : `#${pids.indexOf(Number(p))}`;
  return [
    rows[0],
    ...rows.slice(1).map((r) =>
      r.map((c, i) => pidColumns.includes(i) ? rank(c) : c)
    ).sort((a, b) => a[pidColumns[0]].localeCompare(b[pidColumns[0]])),
  ];
}

Deno.test("top matches podman top on the same root file system", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    try {
      const dir = root(sb);
      const tar = `${sb.dir}/root.tar`;
      const made = await new Deno.Command("tar", {
        args: ["-C", dir, "-cf", tar, "."],
      }).output();
      assert(made.success);
      await podmanOk(sb, ["import", "-q", tar, "bbtop"]);
      await podmanOk(sb, ["run", "-d", "--name", "c", "bbtop", ...TWO]);
      ok(await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", dir, ...TWO]));
      await settle(sb, "c", 2);
      await until(async () =>
        cells(await podmanOk(sb, ["top", "c", "pid"])).length === 3
      );
      // The whole header, and the values that do not vary with time.
      const all = "user pid ppid pcpu etime tty time args comm group nice " +
        "rgroup ruser vsz rss hpid huser hgroup stime state";
      // Times vary: with them, the header and the number of rows; without,
      // every cell, pids as their rank.
      const cases: [string[], number[] | undefined][] = [
        [[], undefined],
        [all.split(" "), undefined],
        [["pid,ppid,user,ruser", "group", "tty", "comm", "args"], [0, 1]],
        [["%p", "%P", "%U", "%c", "%n"], [0, 1]],
        [["huser", "hgroup", "state", "pid"], [3]],
      ];
      for (const [args, pidColumns] of cases) {
        const theirs = await podmanOk(sb, ["top", "c", ...args]);
        const ours = ok(await ptd(sb, ["top", "c", ...args]));
        const what = `top c ${args.join(" ")}`;
        if (pidColumns) {
          assertEquals(
            normalized(ours, pidColumns),
            normalized(theirs, pidColumns),
            what,
          );
        } else {
          assertEquals(cells(ours)[0], cells(theirs)[0], what);
          assertEquals(cells(ours).length, cells(theirs).length, what);
        }
      }
    } finally {
      await podmanOk(sb, ["rm", "-f", "-t", "0", "c"]).catch(() => {});
      stopPodmanPause(sb);
    }
  });
});
