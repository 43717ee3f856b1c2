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

Deno.test("a fresh bundle is loaded by the CLI and init, a stale one never", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "bb");
    const dir = `${sb.dir}/tree`;
    await Deno.mkdir(dir);
    await copyTree(dir);
    const made = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${dir}/scripts/bundle.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(made.success, new TextDecoder().decode(made.stderr));

    const run = ["run", "--rm", "--network", "none", "bb", "echo", "hi"];
    const fresh = await traced(sb, dir, run);
    assertEquals([fresh.code, fresh.stdout], [0, "hi\n"], fresh.stderr);
    assert(fresh.marks.includes("cli-bundle"), fresh.marks.join(" "));
    assert(fresh.marks.includes("init-bundle"), fresh.marks.join(" "));

    // A parent's choice (PTD_BUNDLE, "" for source) is taken unchecked.
    const told = await traced(sb, dir, run, { PTD_BUNDLE: "" });
    assertEquals([told.code, told.stdout], [0, "hi\n"], told.stderr);
    assertEquals(told.marks.filter((m) => m.endsWith("-bundle")), []);

    // An edit (even one that keeps the size) makes it stale.
    const file = `${dir}/src/cli/run.ts`;
    const text = Deno.readTextFileSync(file);
    Deno.writeTextFileSync(file, text.replace("/**", "/*!"));
    const stale = await traced(sb, dir, run);
    assertEquals([stale.code, stale.stdout], [0, "hi\n"], stale.stderr);
    assertEquals(stale.marks.filter((m) => m.endsWith("-bundle")), []);
  });
});
