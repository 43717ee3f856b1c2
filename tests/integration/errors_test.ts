/**
 * The same bad command lines against Podman and ptd: the exit code must be
 * Podman's and the error must say the same thing (its stable part: ids and
 * wrapping differ). Both get the same containers first: one running with a
 * named volume, one created and never started, one exited.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { busyboxRoot, type Sandbox, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

interface Case {
  args: string[];
  code: number;
  /** In both error outputs (stdout for a case that succeeds). */
  says?: string;
}

const CASES: Case[] = [
  {
    args: ["rm", "missing"],
    code: 1,
    says: 'no container with name or ID "missing" found: no such container',
  },
  { args: ["rm", "-f", "missing"], code: 0 },
  {
    args: ["rm", "run1"],
    code: 2,
    says:
      "running or paused containers cannot be removed without force: container state improper",
  },
  { args: ["rm", "missing", "run1"], code: 1, says: '"missing" found' },
  { args: ["rmi", "missing"], code: 1, says: "missing: image not known" },
  {
    args: ["volume", "rm", "missing"],
    code: 1,
    says: 'no volume with name "missing" found: no such volume',
  },
  {
    args: ["volume", "rm", "vol"],
    code: 2,
    says: "volume vol is being used by the following container(s)",
  },
  { args: ["volume", "rm", "-f", "missing"], code: 0 },
  {
    args: ["volume", "create", "vol"],
    code: 125,
    says: "volume with name vol already exists: volume already exists",
  },
  { args: ["inspect", "missing"], code: 125, says: '"missing"' },
  {
    args: ["stop", "missing"],
    code: 125,
    says: 'no container with name or ID "missing" found',
  },
  {
    args: ["start", "missing"],
    code: 125,
    says: 'no container with name or ID "missing" found',
  },
  {
    args: ["kill", "done"],
    code: 125,
    says: "can only kill running containers.",
  },
  {
    args: ["kill", "made"],
    code: 125,
    says: "is in state created: container state improper",
  },
  { args: ["wait", "made"], code: 0, says: "0" },
  {
    args: ["exec", "done", "true"],
    code: 255,
    says: "can only create exec sessions on running containers",
  },
  {
    args: ["exec", "run1", "/nonexistent"],
    code: 127,
    says: "no such file or directory",
  },
  {
    args: ["exec", "run1", "/etc/passwd"],
    code: 126,
    says: "permission denied",
  },
  {
    args: ["top", "done"],
    code: 125,
    says: "top can only be used on running containers",
  },
  { args: ["rename", "made", "run1"], code: 125, says: "already in use" },
  {
    args: ["ps", "--filter", "bogus=1"],
    code: 125,
    says: "bogus is an invalid filter",
  },
  {
    args: ["logout", "missing.example"],
    code: 125,
    says: "not logged into missing.example",
  },
];

/** Cases that create a container, given the root directory. */
const runCases = (root: string): Case[] => [
  {
    args: ["run", "--rm", "--rootfs", root, "/nonexistent"],
    code: 127,
    says: "no such file or directory",
  },
  {
    args: ["run", "--rm", "--rootfs", root, "/etc/passwd"],
    code: 126,
    says: "permission denied",
  },
  {
    args: ["run", "-d", "--rootfs", root, "/nonexistent"],
    code: 127,
    says: "no such file or directory",
  },
];

function runners(sb: Sandbox): Record<string, Runner> {
  const env = { REGISTRY_AUTH_FILE: `${sb.dir}/auth.json` };
  Deno.writeTextFileSync(env.REGISTRY_AUTH_FILE, '{"auths":{}}\n');
  return bothEngines(sb, env);
}

Deno.test("bad command lines: Podman's exit codes and errors", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["sleep", "true"]);
    const engines = runners(sb);
    await sideBySide(sb, engines, async () => {
      for (const [name, run] of Object.entries(engines)) {
        for (
          const args of [
            ["run", "-d", "--name", "run1", "-v", "vol:/tmp", "--rootfs"],
            ["create", "--name", "made", "--rootfs"],
            ["run", "--name", "done", "--rootfs"],
          ]
        ) {
          const cmd = args.includes("run1") ? ["sleep", "1000"] : ["true"];
          const r = await run([...args, root, ...cmd]);
          assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
        }
      }
      for (const c of [...CASES, ...runCases(root)]) {
        for (const [name, run] of Object.entries(engines)) {
          const r = await run(c.args);
          const what = `${name} ${c.args.join(" ")}: ${r.stderr}`;
          assertEquals(r.code, c.code, what);
          if (c.says !== undefined) {
            assertStringIncludes(
              c.code === 0 ? r.stdout : r.stderr,
              c.says,
              what,
            );
          }
        }
      }
    });
  });
});
