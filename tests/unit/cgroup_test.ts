/**
 * src/cgroup without a kernel: limits as cgroup v2 files (runc's and
 * crun's conversions), the delegation check against fake hosts, and the
 * refusal it leads to.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { type CgroupHost, delegation } from "../../src/cgroup/host.ts";
import { limitRefusal } from "../../src/cgroup/policy.ts";
import { cgroupFiles, checkResources } from "../../src/cgroup/resources.ts";
import { assertThrows } from "../assert.ts";

Deno.test("cgroup: limits become the files runc and crun write", () => {
  assertEquals(cgroupFiles({ memory: 64 << 20 }), {
    "memory.max": "67108864",
    "memory.swap.max": "67108864",
  });
  assertEquals(
    cgroupFiles({ memory: 64 << 20, memorySwap: 96 << 20 })["memory.swap.max"],
    String(32 << 20),
  );
  assertEquals(cgroupFiles({ memorySwap: -1 })["memory.swap.max"], "max");
  assertEquals(cgroupFiles({ nanoCpus: 0.5e9 }), { "cpu.max": "50000 100000" });
  assertEquals(cgroupFiles({ cpuQuota: 20000, cpuPeriod: 50000 }), {
    "cpu.max": "20000 50000",
  });
  assertEquals(cgroupFiles({ cpuShares: 1024 }), { "cpu.weight": "39" });
  assertEquals(cgroupFiles({ pidsLimit: 20 }), { "pids.max": "20" });
  assertEquals(cgroupFiles({ pidsLimit: -1 }), { "pids.max": "max" });
  assertEquals(cgroupFiles({ blkioWeight: 500 }), { "io.weight": "4950" });
  assertEquals(cgroupFiles({ cpusetCpus: "0-1" }), { "cpuset.cpus": "0-1" });
});

Deno.test("cgroup: limits are checked against each other", () => {
  assertThrows(
    () => checkResources({ memory: 1024 }),
    /minimum memory limit allowed is 6MB/,
  );
  assertThrows(
    () => checkResources({ memory: 64 << 20, memorySwap: 32 << 20 }),
    /memoryswap limit should be larger than memory limit/,
  );
  assertThrows(
    () => checkResources({ blkioWeight: 5 }),
    /blkio weight is from 10 to 1000/,
  );
  // update: the container's own memory limit counts.
  checkResources({ memorySwap: 128 << 20 }, { memory: 64 << 20 });
});

function fakeHost(files: Record<string, string>, uid = 1000): CgroupHost {
  return {
    uid,
    read: (p) => files[p],
    stat: (p) =>
      Object.keys(files).some((f) => f === p || f.startsWith(`${p}/`))
        ? ({ uid } as Deno.FileInfo)
        : undefined,
  };
}

const SVC = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";

Deno.test("cgroup: delegation is found, or the reason there is none", () => {
  const v2 = {
    "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids io",
    [`${SVC}/cgroup.subtree_control`]: "cpu memory pids\n",
    "/proc/self/cgroup":
      `0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-x.scope\n`,
  };
  assertEquals(delegation(fakeHost(v2)), {
    root: SVC,
    controllers: ["cpu", "memory", "pids"],
    own: `${SVC}/app.slice/run-x.scope`,
  });
  const hybrid = delegation(fakeHost({ "/sys/fs/cgroup/unified/x": "" }));
  assertMatch(JSON.stringify(hybrid), /hybrid cgroups/);
  const outside = delegation(fakeHost({
    ...v2,
    "/proc/self/cgroup": "0::/user.slice/user-1000.slice/session-3.scope\n",
  }));
  assertEquals(outside, {
    reason: "ptd runs outside your delegated cgroup (user@1000.service)",
    fix: "systemd-run --user --scope ptd ...",
  });
  const noService = delegation(fakeHost({
    "/sys/fs/cgroup/cgroup.controllers": "cpu memory",
  }));
  assertMatch(JSON.stringify(noService), /enable-linger/);
  const d = delegation(fakeHost(v2));
  assertEquals(limitRefusal({ resources: { memory: 64 << 20 } }, d), undefined);
  assertMatch(
    limitRefusal({ resources: { cpusetCpus: "0" } }, d)!.message,
    /^--cpuset-cpus: the cpuset controller is not delegated to you/,
  );
  assertEquals(limitRefusal({}, hybrid), undefined);
  assertEquals(
    limitRefusal({ resources: { pidsLimit: 5 } }, hybrid)!.exitCode,
    125,
  );
});
