/**
 * `secret` commands and `run --secret`, side by side with Podman (rootless,
 * runc): the same exit codes, output and error text, the secret as the
 * container sees it, and the store laid out as Podman's file driver keeps
 * it.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { busyboxRoot, ptd, type Sandbox, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

/** One command line for both engines; `out` false: exit codes only. */
interface Step {
  args: string[];
  code?: number;
  says?: string;
  stdin?: string;
  out?: boolean;
}

const runners = (sb: Sandbox) =>
  bothEngines(sb, { SECRET_PROBE: "from-the-env" });

/** Runs `steps` on both engines, comparing as each step says. */
async function compare(
  engines: Record<string, Runner>,
  steps: Step[],
) {
  for (const step of steps) {
    const out: Record<string, string> = {};
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(step.args, step.stdin);
      const what = `${name} ${step.args.join(" ")}: ${r.stderr}`;
      assertEquals(r.code, step.code ?? 0, what);
      if (step.says) assertStringIncludes(r.stderr, step.says, what);
      out[name] = r.stdout;
    }
    if (step.out !== false) {
      assertEquals(out.ptd, out.podman, step.args.join(" "));
    }
  }
}

Deno.test("secret create/ls/inspect/rm: as Podman's", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const file = `${sb.dir}/secret.txt`;
    Deno.writeTextFileSync(file, "topsecret");
    Deno.writeTextFileSync(`${sb.dir}/empty`, "");
    const engines = runners(sb);
    const NAMES = "{{range .}}{{.Name}} {{.Driver}}\n{{end}}";
    await sideBySide(sb, engines, async () => {
      await compare(engines, [
        { args: ["secret", "ls"] },
        { args: ["secret", "ls", "--noheading"] },
        { args: ["secret", "create", "one", file], out: false },
        {
          args: [
            "secret",
            "create",
            "--env",
            "-l",
            "a=b",
            "two",
            "SECRET_PROBE",
          ],
          out: false,
        },
        {
          args: ["secret", "create", "three", "-"],
          stdin: "from stdin",
          out: false,
        },
        {
          args: ["secret", "create", "one", file],
          code: 125,
          says: "one: secret name in use",
        },
        {
          args: ["secret", "create", "x", `${sb.dir}/nonexistent`],
          code: 125,
          says: `open ${sb.dir}/nonexistent: no such file or directory`,
        },
        {
          args: ["secret", "create", "bad/name", file],
          code: 125,
          says: "bad/name: invalid secret name",
        },
        {
          args: ["secret", "create", "--driver", "bogus", "x", file],
          code: 125,
          says: "invalid driver",
        },
        {
          args: ["secret", "create", "x", `${sb.dir}/empty`],
          code: 125,
          says: "secret data must be larger than 0 and less than 512000 bytes",
        },
        {
          args: ["secret", "create", "--env", "x", "NO_SUCH_VARIABLE"],
          code: 125,
          says: "environment variable NO_SUCH_VARIABLE is not set",
        },
        {
          args: ["secret", "create", "x"],
          code: 125,
          says: "accepts 2 arg(s)",
        },
        {
          args: [
            "secret",
            "inspect",
            "--format",
            "{{.Spec.Name}} {{.Spec.Driver.Name}} {{.Spec.Labels}}",
            "two",
            "one",
          ],
        },
        {
          args: ["secret", "ls", "--filter", "name=thr", "--format", NAMES],
        },
        {
          args: ["secret", "ls", "--filter", "bogus=1"],
          code: 125,
          says: 'invalid filter "bogus"',
        },
        {
          args: [
            "secret",
            "ls",
            "--format",
            "table {{.Name}}",
            "-f",
            "name=one",
          ],
        },
        {
          args: ["secret", "inspect", "nope"],
          code: 125,
          says:
            'inspecting secret: no secret with name or id "nope": no such secret',
        },
        {
          args: ["secret", "inspect"],
          code: 125,
          says: "requires at least 1 arg(s), only received 0",
        },
        {
          args: ["secret", "rm", "nope"],
          code: 125,
          says: 'no secret with name or id "nope": no such secret',
        },
        { args: ["secret", "rm"], code: 125, says: "requires one argument" },
      ]);
      // Ids are random: compare the shapes of inspect and ls.
      const docs: Record<string, unknown> = {};
      for (const [name, run] of Object.entries(engines)) {
        const r = await run(["secret", "inspect", "two"]);
        const [doc] = JSON.parse(r.stdout);
        assert(/^[0-9a-f]{25}$/.test(doc.ID), `${name}: ${doc.ID}`);
        const listed = await run(["secret", "ls", "-q"]);
        assertEquals(listed.stdout.trim().split("\n").length, 3, name);
        docs[name] = {
          keys: Object.keys(doc),
          spec: { ...doc.Spec, Driver: Object.keys(doc.Spec.Driver) },
        };
        const pretty = await run(["secret", "inspect", "--pretty", "two"]);
        assertStringIncludes(pretty.stdout, "Name:              two\n");
        assertStringIncludes(pretty.stdout, "Labels:\n - a=b\n");
        const removed = await run(["secret", "rm", "one", "two"]);
        assertEquals(removed.stdout.trim().split("\n").length, 2, name);
        const all = await run(["secret", "rm", "-a"]);
        assertEquals(all.stdout.trim().split("\n").length, 1, name);
      }
      assertEquals(docs.ptd, docs.podman);
    });
  });
});

Deno.test("secret: stored as Podman's file driver stores it", async () => {
  await withSandbox(async (sb) => {
    Deno.writeTextFileSync(`${sb.dir}/s`, "topsecret");
    const made = await ptd(sb, [
      "secret",
      "create",
      "-l",
      "k=v",
      "s",
      `${sb.dir}/s`,
    ]);
    assertEquals(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    const root = `${sb.env.PTD_ROOT}/secrets`;
    const db = JSON.parse(Deno.readTextFileSync(`${root}/secrets.json`));
    assertEquals(db.nameToID, { s: id });
    assertEquals(db.idToName, { [id]: "s" });
    assertEquals(db.secrets[id].name, "s");
    assertEquals(db.secrets[id].driver, "file");
    assertEquals(db.secrets[id].labels, { k: "v" });
    assertEquals(db.secrets[id].driverOptions, {
      path: `${root}/filedriver`,
    });
    const values = JSON.parse(
      Deno.readTextFileSync(`${root}/filedriver/secretsdata.json`),
    );
    assertEquals(atob(values[id]), "topsecret");
    assertEquals(Deno.statSync(`${root}/secrets.json`).mode! & 0o777, 0o600);
    const exists = await ptd(sb, ["secret", "exists", "s"]);
    assertEquals(exists.code, 0);
    await ptd(sb, ["secret", "rm", "s"]);
    assertEquals((await ptd(sb, ["secret", "exists", "s"])).code, 1);
  });
});

/** `run --secret` cases: options, and what the container sees. */
const RUNS: [string[], string, number?, string?][] = [
  [
    ["--secret", "sec"],
    "ls -l /run/secrets | tail -1 | awk '{print $1, $3, $5, $9}'; cat /run/secrets/sec",
  ],
  [["--secret", "sec,type=env"], "echo $sec"],
  [["--secret", "sec,type=env,target=FOO"], "echo $FOO"],
  [
    ["--secret", "sec,target=/etc/foo,uid=5,gid=6,mode=0400"],
    "ls -ln /etc/foo | awk '{print $1, $3, $4}'; cat /etc/foo",
  ],
  [["--secret", "sec,target=named"], "cat /run/secrets/named"],
  [
    ["--secret", "nope"],
    "true",
    125,
    'no secret with name or id "nope": no such secret',
  ],
  [
    ["--secret", "sec,type=bogus"],
    "true",
    125,
    "type bogus is invalid: parsing secret",
  ],
  [
    ["--secret", "sec,bogus=1"],
    "true",
    125,
    "option bogus=1 invalid: parsing secret",
  ],
  [
    ["--secret", "sec,type=env,uid=1"],
    "true",
    125,
    "UID, GID, Mode options cannot be set with secret type env: parsing secret",
  ],
];

Deno.test("run --secret: the container sees what Podman's sees", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    Deno.writeTextFileSync(`${sb.dir}/s`, "topsecret");
    const engines = runners(sb);
    await sideBySide(sb, engines, async () => {
      const roots: Record<string, string> = {};
      for (const [name, run] of Object.entries(engines)) {
        roots[name] = busyboxRoot(`${sb.dir}/${name}`, [
          "awk",
          "sleep",
          "tail",
        ]);
        const r = await run(["secret", "create", "sec", `${sb.dir}/s`]);
        assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      }
      for (const [opts, cmd, code = 0, says] of RUNS) {
        const out: Record<string, string> = {};
        for (const [name, run] of Object.entries(engines)) {
          const args = ["run", "--rm", ...opts, "--rootfs", roots[name]];
          const r = await run([...args, "sh", "-c", cmd]);
          const what = `${name} ${opts.join(" ")}: ${r.stderr}`;
          assertEquals(r.code, code, what);
          if (says) assertStringIncludes(r.stderr, says, what);
          out[name] = r.stdout;
        }
        assertEquals(out.ptd, out.podman, opts.join(" "));
      }
      // An exec'd command gets the env secrets too.
      for (const [name, run] of Object.entries(engines)) {
        const up = await run([
          "run",
          "-d",
          "--name",
          "envsec",
          "--secret",
          "sec,type=env,target=TOKEN",
          "--rootfs",
          roots[name],
          "sleep",
          "1000",
        ]);
        assertEquals(up.code, 0, `${name}: ${up.stderr}`);
        const seen = await run(["exec", "envsec", "sh", "-c", "echo $TOKEN"]);
        assertEquals(seen.stdout, "topsecret\n", `${name}: ${seen.stderr}`);
        await run(["rm", "-f", "-t", "0", "envsec"]);
      }
      // A mounted secret is the container's own copy: it outlives the secret.
      for (const [name, run] of Object.entries(engines)) {
        const made = await run([
          "create",
          "--name",
          "keeps",
          "--secret",
          "sec",
          "--rootfs",
          roots[name],
          "cat",
          "/run/secrets/sec",
        ]);
        assertEquals(made.code, 0, `${name}: ${made.stderr}`);
        const shown = await run([
          "inspect",
          "--format",
          "{{range .Config.Secrets}}{{.Name}} {{.UID}} {{.Mode}}{{end}}",
          "keeps",
        ]);
        assertEquals(shown.stdout, "sec 0 292\n", name);
        await run(["secret", "rm", "sec"]);
        const started = await run(["start", "-a", "keeps"]);
        assertEquals(started.stdout, "topsecret", `${name}: ${started.stderr}`);
        await run(["rm", "-f", "keeps"]);
      }
    });
  });
});
