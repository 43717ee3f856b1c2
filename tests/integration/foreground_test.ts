/**
 * A foreground `ptd run` is a container like any other (issue 12): logged,
 * restarted, stopped, killed, exec'd into and removed from another shell,
 * and when its CLI dies by any signal the container dies and the next
 * command records it and performs --rm. Rootless, the CLI from source.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import {
  alive,
  busyboxRoot,
  ok,
  processesWith,
  ptd,
  ptdCommand,
  REPO,
  type Sandbox,
  sleep,
  until,
  withSandbox,
} from "../helpers.ts";

/** A `ptd run` in the background, as a second shell would see it. */
function background(sb: Sandbox, args: string[]) {
  const child = ptdCommand(sb, ["run", ...args]).spawn();
  const output = child.output();
  return {
    /**
     * Its exit code once it ended; a CLI killed by a signal (not ended by
     * itself) fails the test.
     */
    async end() {
      const out = await output;
      assertEquals(out.signal, null, "the CLI was killed");
      return out.code;
    },
    /** Kills it with SIGKILL and waits for the end. */
    async kill9() {
      child.kill("SIGKILL");
      await output;
    },
  };
}

const root = (sb: Sandbox) => busyboxRoot(sb.dir, ["sleep"]);

/** Waits until the container runs and returns its first process's pid. */
async function running(sb: Sandbox, name: string): Promise<number> {
  let pid = 0;
  await until(async () => {
    const r = await ptd(sb, [
      "inspect",
      "--format",
      "{{.State.Status}} {{.State.Pid}}",
      name,
    ]);
    const [status, p] = r.stdout.trim().split(" ");
    pid = Number(p);
    return status === "running" && pid > 0;
  });
  return pid;
}

/**
 * A foreground `run --name NAME [extra] --rootfs ROOTFS sleep 300` in the background,
 * once its container runs, with the pid of the container's process.
 */
async function sleeper(
  sb: Sandbox,
  rootfs: string,
  name: string,
  ...extra: string[]
) {
  const fg = background(sb, [
    "--name",
    name,
    ...extra,
    "--rootfs",
    rootfs,
    "sleep",
    "300",
  ]);
  return { fg, pid: await running(sb, name) };
}

const status = async (sb: Sandbox, ref: string) =>
  ok(await ptd(sb, ["inspect", "--format", "{{.State.Status}}", ref]));

Deno.test("a foreground run is logged like a detached one", async () => {
  await withSandbox(async (sb) => {
    const r = await ptd(sb, [
      "run",
      "--name",
      "x",
      "--rootfs",
      root(sb),
      "sh",
      "-c",
      "echo hi; echo oops >&2",
    ]);
    assertEquals([r.code, r.stdout, r.stderr], [0, "hi\n", "oops\n"]);
    const logs = await ptd(sb, ["logs", "x"]);
    assertEquals([logs.stdout, logs.stderr], ["hi\n", "oops\n"]);
  });
});

Deno.test("a foreground run with --restart returns the code, then restarts in the background", async () => {
  await withSandbox(async (sb) => {
    const r = await ptd(sb, [
      "run",
      "--name",
      "x",
      "--restart",
      "on-failure:2",
      "--rootfs",
      root(sb),
      "sh",
      "-c",
      "echo run; exit 3",
    ]);
    assertEquals([r.code, r.stdout], [3, "run\n"]);
    await until(async () =>
      (await ptd(sb, [
        "inspect",
        "--format",
        "{{.RestartCount}} {{.State.Status}}",
        "x",
      ])).stdout.trim() === "2 exited"
    );
    assertEquals(ok(await ptd(sb, ["logs", "x"])), "run\nrun\nrun");
    assertEquals(ok(await ptd(sb, ["wait", "x"])), "3");
  });
});

Deno.test("from another shell: exec, rm, stop, kill and rm -f reach a foreground run", async () => {
  await withSandbox(async (sb) => {
    const rootfs = root(sb);
    const { fg, pid } = await sleeper(sb, rootfs, "x");
    assertEquals(ok(await ptd(sb, ["exec", "x", "echo", "inside"])), "inside");
    const rm = await ptd(sb, ["rm", "x"]);
    assert(rm.code !== 0, "rm without -f must refuse a running container");
    assertStringIncludes(rm.stderr, "cannot remove container");
    assert(alive(pid));
    assertEquals(ok(await ptd(sb, ["stop", "-t", "1", "x"])), "x");
    assertEquals(await fg.end(), 137);
    assertEquals(await status(sb, "x"), "exited");
    assert(!alive(pid));

    const { fg: fg2, pid: pid2 } = await sleeper(sb, rootfs, "y");
    assertEquals(ok(await ptd(sb, ["kill", "y"])), "y");
    assertEquals(await fg2.end(), 137);
    await until(async () => await status(sb, "y") === "exited");
    assert(!alive(pid2));

    const { fg: fg3, pid: pid3 } = await sleeper(sb, rootfs, "z", "--rm");
    assertEquals(ok(await ptd(sb, ["rm", "-f", "z"])), "z");
    assertEquals(await fg3.end(), 137);
    assert(!alive(pid3));
    assertEquals((await ptd(sb, ["container", "exists", "z"])).code, 1);
    assertEquals(
      ok(await ptd(sb, ["ps", "-a", "--format", "{{.Names}}"])).split("\n")
        .sort(),
      ["x", "y"],
    );
  });
});

Deno.test("kill -9 of a foreground run: the container dies, ps shows it exited, --rm happens", async () => {
  await withSandbox(async (sb) => {
    const rootfs = root(sb);
    const { fg, pid } = await sleeper(sb, rootfs, "x");
    await fg.kill9();
    await until(() => Promise.resolve(!alive(pid)));
    const ps = ok(
      await ptd(sb, ["ps", "-a", "--format", "{{.Names}} {{.Status}}"]),
    );
    assertMatch(ps, /^x Exited \(137\)/);
    assertEquals(ok(await ptd(sb, ["ps", "-q"])), "");

    const { fg: rm } = await sleeper(sb, rootfs, "r", "--rm");
    await rm.kill9();
    // The first command after the death performs --rm; wait still learns the code.
    assertEquals(ok(await ptd(sb, ["wait", "r"])), "137");
    assertEquals(
      ok(await ptd(sb, ["ps", "-a", "--format", "{{.Names}}"])),
      "x",
    );
  });
});

Deno.test("kill -9 of run --rm at any moment of its start leaves no process and no record", async () => {
  await withSandbox(async (sb) => {
    const rootfs = root(sb);
    // The default network keeps the window between clone and release open
    // while slirp4netns comes up; the kills fall across the whole start.
    for (let i = 0; i < 12; i++) {
      const fg = background(sb, [
        "--rm",
        "--rootfs",
        rootfs,
        "sleep",
        `30${i}`,
      ]);
      await sleep(40 + i * 30);
      await fg.kill9();
    }
    await until(
      () => Promise.resolve(processesWith(sb.dir).length === 0),
      5000,
    );
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
    // What a kill in the middle of creating or removing a record left is
    // swept by the next create.
    const id = ok(await ptd(sb, ["create", "--rootfs", rootfs, "true"]));
    assertEquals(ok(await ptd(sb, ["rm", id])), id);
    const dirs = [...Deno.readDirSync(`${sb.env.PTD_ROOT}/containers`)]
      .filter((e) => e.isDirectory).map((e) => e.name);
    assertEquals(dirs, []);
  });
});

Deno.test("a record half built or half removed is never listed, and the next create sweeps it", async () => {
  await withSandbox(async (sb) => {
    const rootfs = root(sb);
    const id = ok(await ptd(sb, ["create", "--rootfs", rootfs, "true"]));
    const dir = `${sb.env.PTD_ROOT}/containers`;
    // As a create and an rm killed half-way leave them.
    Deno.mkdirSync(`${dir}/.new-${"a".repeat(64)}/upper`, { recursive: true });
    Deno.renameSync(`${dir}/${id}`, `${dir}/.rm-${id}`);
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
    const next = ok(await ptd(sb, ["create", "--rootfs", rootfs, "true"]));
    const dirs = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory);
    assertEquals(dirs.map((e) => e.name), [next]);
  });
});

Deno.test("a cloned child dies with its parent, released or not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A parent that clones three children into new namespaces and is
    // killed: one waits for its release; one is released and execs a
    // program that asks for nothing; one is released under a keep-id map,
    // where the routine's change to uid 0 clears the parent-death signal
    // unless it asks again.
    const script = `${dir}/parent.ts`;
    Deno.writeTextFileSync(
      script,
      `import { cloneExec, environ } from "${REPO}/ffi/clone.ts";
import { CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER } from "${REPO}/ffi/constants.ts";
import { compose, keepIdRanges, mapSize, writeIdMaps } from "${REPO}/src/runtime/idmap.ts";
import { userMaps } from "${REPO}/src/runtime/create.ts";
const clone = () => cloneExec({
  flags: CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID,
  path: "/bin/sleep",
  argv: ["/bin/sleep", "100"],
  env: environ(),
});
const waiting = await clone(), released = await clone();
released.release();
const keepId = await clone();
const base = userMaps();
await writeIdMaps(keepId.pid, {
  uid: compose(keepIdRanges(1000, mapSize(base.uid)), base.uid),
  gid: compose(keepIdRanges(1000, mapSize(base.gid)), base.gid),
  single: false,
});
keepId.release();
console.log(waiting.pid, released.pid, keepId.pid);
await new Promise(() => setInterval(() => {}, 1000));
`,
    );
    const parent = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--config=${REPO}/deno.json`, script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = parent.stdout.getReader();
    const { value } = await reader.read();
    const pids = new TextDecoder().decode(value).trim().split(" ").map(Number);
    assertEquals(pids.length, 3);
    assert(pids.every(alive), "both children live while their parent does");
    parent.kill("SIGKILL");
    await parent.status;
    reader.releaseLock();
    await parent.stdout.cancel();
    await until(() => Promise.resolve(!pids.some(alive)), 5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
