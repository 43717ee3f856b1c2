/**
 * The bundle (`deno task bundle`): ptd loads its modules from it while it
 * was made from the sources as they are, and the processes it starts
 * (init here) load from the same place; a source file changed since means
 * source again, never stale code. Run on a copy of the tree, so the
 * repository's own bundle is left alone.
 */
import { assert, assertEquals } from "../assert.ts";
import { storeBusyboxImage } from "../busybox_image.ts";
import { ptdArgv, REPO, type Sandbox, withSandbox } from "../helpers.ts";

async function copyTree(dir: string) {
  for (const part of ["main.ts", "deno.json", "src", "ffi", "scripts"]) {
    // -p: the copy's files keep their times, as a checkout's do.
    const cp = await new Deno.Command("cp", {
      args: ["-rp", `${REPO}/${part}`, `${dir}/${part}`],
    }).output();
    assert(cp.success, `cp ${part}`);
  }
}

/** `ptd ARGS` from the tree at `dir`, traced: its stdout and trace marks. */
async function traced(
  sb: Sandbox,
  dir: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const [cmd, ...argv] = ptdArgv(args, dir);
  const out = await new Deno.Command(cmd, {
    args: argv,
    env: { ...sb.env, ...env, PTD_TRACE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    marks: [...stderr.matchAll(/^ptd-trace (\S+) /gm)].map((m) => m[1]),
    stderr,
  };
}

/** Makes the bundle of the tree at `dir`; returns the version it made. */
async function makeBundle(dir: string): Promise<string> {
  const made = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${dir}/scripts/bundle.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(made.success, new TextDecoder().decode(made.stderr));
  return JSON.parse(Deno.readTextFileSync(`${dir}/dist/bundle/current.json`))
    .version;
}

/** A copy of the tree in the sandbox, bundled, and the bundle's version. */
async function bundledTree(sb: Sandbox) {
  await storeBusyboxImage(sb, "bb");
  const dir = `${sb.dir}/tree`;
  await Deno.mkdir(dir);
  await copyTree(dir);
  return { dir, version: await makeBundle(dir) };
}

const RUN = ["run", "--rm", "--network", "none", "bb", "echo", "hi"];

const bundleMarks = (marks: string[]) =>
  marks.filter((m) => m.endsWith("-bundle"));

Deno.test("a fresh bundle is loaded by the CLI and init, a stale one never", async () => {
  await withSandbox(async (sb) => {
    const { dir } = await bundledTree(sb);
    const fresh = await traced(sb, dir, RUN);
    assertEquals([fresh.code, fresh.stdout], [0, "hi\n"], fresh.stderr);
    assert(fresh.marks.includes("cli-bundle"), fresh.marks.join(" "));
    assert(fresh.marks.includes("init-bundle"), fresh.marks.join(" "));

    // A parent's choice (PTD_BUNDLE, "" for source) is taken unchecked.
    const told = await traced(sb, dir, RUN, { PTD_BUNDLE: "" });
    assertEquals([told.code, told.stdout], [0, "hi\n"], told.stderr);
    assertEquals(bundleMarks(told.marks), []);

    // An edit (even one that keeps the size) makes it stale.
    const file = `${dir}/src/cli/run.ts`;
    const text = Deno.readTextFileSync(file);
    Deno.writeTextFileSync(file, text.replace("/**", "/*!"));
    const stale = await traced(sb, dir, RUN);
    assertEquals([stale.code, stale.stdout], [0, "hi\n"], stale.stderr);
    assertEquals(bundleMarks(stale.marks), []);
  });
});

Deno.test("a bundle made again leaves the version a running container's monitor uses, until it ends", async () => {
  await withSandbox(async (sb) => {
    const { dir, version: first } = await bundledTree(sb);
    const bundles = `${dir}/dist/bundle`;
    const versions = () =>
      [...Deno.readDirSync(bundles)].filter((e) => e.isDirectory).map((e) =>
        e.name
      ).sort();
    const started = await traced(sb, dir, [
      "run",
      "-d",
      "--network",
      "none",
      "--name",
      "held",
      "bb",
      "sleep",
      "600",
    ]);
    assertEquals(started.code, 0, started.stderr);
    const second = await makeBundle(dir);
    assertEquals(versions(), [first, second].sort());

    // A process told a version that has gone chooses the current one.
    const gone = await traced(sb, dir, RUN, {
      PTD_BUNDLE: `file://${bundles}/0-0/`,
    });
    assertEquals([gone.code, gone.stdout], [0, "hi\n"], gone.stderr);
    assert(gone.marks.includes("cli-bundle"), gone.marks.join(" "));

    const removed = await traced(sb, dir, ["rm", "-f", "held"]);
    assertEquals(removed.code, 0, removed.stderr);
    const third = await makeBundle(dir);
    assertEquals(versions(), [third]);
  });
});
