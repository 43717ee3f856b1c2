/**
 * network and pod command lines against Podman and ptd: the exit code
 * must be Podman's and the error must say the same thing.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { webRoot, withSandbox } from "../helpers.ts";
import { bothEngines, hasPodman, sideBySide } from "../podman.ts";

/**
 * Podman keeps rootless CNI networks in the user's own config (not in the
 * test's store), shared by every test of the user: a name of this run's.
 */
const DUP = `dup${crypto.randomUUID().slice(0, 8)}`;

const CASES: { args: string[]; code: number; says?: string }[] = [
  {
    args: ["network", "inspect", "nope"],
    code: 125,
    says: "unable to find network with name or ID nope: network not found",
  },
  {
    args: ["network", "rm", "nope"],
    code: 1,
    says: "unable to find network with name or ID nope: network not found",
  },
  { args: ["network", "exists", "nope"], code: 1 },
  { args: ["network", "exists", DUP], code: 0 },
  {
    args: ["network", "create", DUP],
    code: 125,
    says: `network name ${DUP} already used: network already exists`,
  },
  {
    args: ["network", "create", "--subnet", "10.200.0.0/33", "x"],
    code: 125,
    says: "invalid CIDR address: 10.200.0.0/33",
  },
  {
    args: [
      "network",
      "create",
      "--subnet",
      "10.201.0.0/24",
      "--gateway",
      "10.5.0.1",
      "x",
    ],
    code: 125,
    says: "gateway 10.5.0.1 not in subnet 10.201.0.0/24",
  },
  {
    args: ["network", "create", "--ipam-driver", "foo", "x"],
    code: 125,
    says: 'unsupported ipam driver "foo"',
  },
  {
    args: ["network", "create", "bad name!"],
    code: 125,
    says: "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
  },
  {
    args: ["network", "create", "--ip-range", "10.1.0.0/24", "x"],
    code: 125,
    says: "cannot set gateway or range without subnet",
  },
  {
    args: ["network", "ls", "--filter", "foo=bar"],
    code: 125,
    says: 'invalid filter "foo"',
  },
  {
    args: ["network", "rm", "podman"],
    code: 125,
    says: "default network podman cannot be removed",
  },
  {
    args: ["network", "connect", DUP, "nope"],
    code: 125,
    says: 'no container with name or ID "nope" found',
  },
  {
    args: ["network", "create", "--subnet", "fd00:1::/129", "x"],
    code: 125,
    says: "invalid CIDR address: fd00:1::/129",
  },
  {
    args: [
      "network",
      "create",
      "--subnet",
      "fd00:5::/64",
      "--gateway",
      "10.0.0.1",
      "x",
    ],
    code: 125,
    says: "gateway 10.0.0.1 not in subnet fd00:5::/64",
  },
  // A container on the default (slirp4netns) network joins no network.
  {
    args: ["network", "connect", DUP, "cc"],
    code: 125,
    says: '"slirp4netns" is not supported: invalid network mode',
  },
  {
    args: ["network", "reload", "cc"],
    code: 125,
    says:
      "cannot reload network unless container network has been configured: container state improper",
  },
  {
    args: ["network", "reload"],
    code: 125,
    says: "you must provide at least one name or id",
  },
  {
    args: ["network", "reload", "-a", "cc"],
    code: 125,
    says: "no arguments are needed with --all",
  },
  {
    args: ["network", "reload", "nope"],
    code: 125,
    says: 'no container with name or ID "nope" found',
  },
  // --all passes over containers it cannot reload.
  { args: ["network", "reload", "-a"], code: 0 },
  {
    args: ["pod", "inspect", "nope"],
    code: 125,
    says: "inspecting object: no such pod nope",
  },
  {
    args: ["pod", "rm", "nope"],
    code: 1,
    says: "no pod with name or ID nope found: no such pod",
  },
  { args: ["pod", "exists", "nope"], code: 1 },
  { args: ["pod", "exists", "pp"], code: 0 },
  {
    args: ["pod", "start", "nope"],
    code: 125,
    says: "no pod with name or ID nope found: no such pod",
  },
  {
    args: ["pod", "create", "--name", "pp"],
    code: 125,
    says: 'name "pp" is in use: pod already exists',
  },
  {
    args: ["pod", "create", "--share", "foo", "x1"],
    code: 125,
    says: "invalid kernel namespace to share: foo",
  },
  {
    args: ["pod", "create", "--infra=false", "-p", "8080:80", "x2"],
    code: 125,
    says: "you must have an infra container to publish port bindings",
  },
];

Deno.test("network and pod: Podman's exit codes and errors", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      const root = webRoot(sb.dir, "");
      const setup = [
        ["network", "create", DUP],
        ["pod", "create", "--name", "pp"],
        ["create", "--name", "cc", "--rootfs", root, "true"],
      ];
      try {
        for (const [name, run] of Object.entries(engines)) {
          for (const args of setup) {
            const r = await run(args);
            assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
          }
        }
        for (const c of CASES) {
          for (const [name, run] of Object.entries(engines)) {
            const r = await run(c.args);
            const what = `${name} ${c.args.join(" ")}: ${r.stderr}`;
            assertEquals(r.code, c.code, what);
            if (c.says !== undefined) {
              assertStringIncludes(r.stderr, c.says, what);
            }
          }
        }
      } finally {
        for (const run of Object.values(engines)) {
          await run(["pod", "rm", "-fa"]);
          await run(["network", "rm", "-f", DUP]);
        }
      }
    });
  });
});
