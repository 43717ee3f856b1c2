/**
 * What init does to confine the container's process, on the recording fake:
 * where the seccomp filter goes on, Podman's capability sets, no host
 * descriptor left open, no working directory outside the root, masked
 * paths; and --security-opt as Podman reads it.
 */
import assert from "node:assert/strict";
import { FakeExec, RecordingSyscalls } from "../../ffi/fake.ts";
import { runInit } from "../../src/runtime/init.ts";
import { execProcess } from "../../src/runtime/process.ts";
import type { ProcessSpec, RuntimeSpec } from "../../src/runtime/spec.ts";
import { PtdError } from "../../src/runtime/errors.ts";
import { spec } from "./init_spec.ts";
import { containerMasks } from "../../src/runtime/masks.ts";
import { parseSecurityOpts } from "../../src/security/options.ts";

/** The calls init makes from the credentials to execve, for `proc`. */
function execTrace(over: Partial<ProcessSpec>, uid = 0): string[] {
  const sys = new RecordingSyscalls();
  const proc: ProcessSpec = {
    args: ["/bin/true"],
    env: [],
    cwd: "/",
    user: "",
    groups: [],
    stdin: true,
    capabilities: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
    noNewPrivileges: false,
    seccomp: new Uint8Array([2, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f])
      .toBase64(),
    ...over,
  };
  const user = { uid, gid: uid, groups: [], home: "/" };
  const probe = { stat: () => ({ kind: "file" as const, mode: 0o755 }) };
  assert.throws(
    () => execProcess(sys, proc, user, [], probe, false, 40),
    FakeExec,
  );
  return sys.trace();
}

Deno.test("init: the filter goes on before the credentials, or last with no_new_privs", () => {
  const t = execTrace({});
  assert(t.includes("seccomp 1 2"), t.join("\n"));
  assert(t.indexOf("seccomp 1 2") < t.indexOf("setresuid 0"));
  const nnp = execTrace({ noNewPrivileges: true });
  assert.deepEqual(nnp.slice(-4), [
    "no_new_privs",
    "reset_for_exec",
    "seccomp 1 2",
    "execve /bin/true [/bin/true]",
  ]);
  assert(
    !execTrace({ seccomp: undefined }).some((l) => l.startsWith("seccomp")),
  );
});

Deno.test("init: Podman's capability sets for root and for another user", () => {
  // Root: the bounding set effective and permitted, nothing inheritable.
  assert(execTrace({}).includes("capset [0,10] []"));
  // Another user: only what --cap-add gave, ambient too.
  const user = execTrace({ userCapabilities: ["CAP_NET_BIND_SERVICE"] }, 1000);
  assert(user.includes("capset [10] [10]"));
  assert(user.includes("ambient_raise 10"));
  const none = execTrace({}, 1000);
  assert(none.includes("capset [] []"));
  assert(!none.some((l) => l.startsWith("ambient_raise")));
});

/** A spec with host descriptors to leave behind, entering fd 12 as cwd. */
function leaky(): RuntimeSpec {
  const s = spec({
    mounts: [
      { type: "bind", source: "/data", destination: "/d", readonly: false },
    ],
    ipc: "host",
  });
  s.process = { ...s.process, args: ["/bin/sh"], cwd: "/proc/self/fd/12" };
  return s;
}

function runWith(sys: RecordingSyscalls) {
  const probe = { stat: () => ({ kind: "file" as const, mode: 0o755 }) };
  return () => runInit(sys, leaky(), probe, () => "", 40);
}

Deno.test("init: every host descriptor it opened is closed before the working directory is entered", () => {
  const sys = new RecordingSyscalls();
  const opened: number[] = [];
  const openPath = sys.openPath.bind(sys);
  sys.openPath = (path) => {
    const fd = openPath(path);
    opened.push(fd);
    return fd;
  };
  assert.throws(runWith(sys), FakeExec);
  const t = sys.trace();
  assert(opened.length > 5);
  const enter = t.indexOf("chdir /proc/self/fd/12");
  for (const fd of opened) {
    const closed = t.indexOf(`close ${fd}`);
    assert(closed >= 0 && closed < enter, `fd ${fd} still open`);
  }
});

Deno.test("init: a working directory outside the root is refused", () => {
  const sys = new RecordingSyscalls();
  const chdir = sys.chdir.bind(sys);
  sys.chdir = (path) => {
    chdir(path);
    if (path.startsWith("/proc/self/fd/")) sys.cwd = "";
  };
  assert.throws(
    runWith(sys),
    (e) =>
      e instanceof PtdError && e.exitCode === 126 &&
      /outside of container mount namespace root/.test(e.message),
  );
  assert(!sys.trace().some((l) => l.startsWith("execve")));
});

Deno.test("mask= and unmask= as Podman applies them", () => {
  const defaults = {
    masked: ["/proc/kcore", "/proc/keys", "/sys/firmware"],
    readonly: ["/proc/sys"],
  };
  const masks = (o: Partial<Parameters<typeof containerMasks>[1]>) =>
    containerMasks(defaults, { privileged: false, ...o });
  assert.deepEqual(masks({}), defaults);
  assert.deepEqual(masks({ unmask: ["/proc/k*"], mask: ["/etc/x"] }), {
    masked: ["/sys/firmware", "/etc/x"],
    readonly: ["/proc/sys"],
  });
  assert.deepEqual(masks({ unmask: ["ALL"] }), { masked: [], readonly: [] });
  assert.deepEqual(masks({ privileged: true }), { masked: [], readonly: [] });
  assert.deepEqual(masks({ privileged: true, mask: ["/etc/x"] }), {
    masked: ["/etc/x"],
    readonly: [],
  });
});

Deno.test("init masks what the container's masks say", () => {
  const sys = new RecordingSyscalls();
  for (const p of ["/proc/kcore", "/proc/keys", "/etc/x"]) sys.files.add(p);
  const s = spec({ unmask: ["/proc/kcore"], mask: ["/etc/x"] });
  s.process = { ...s.process, args: ["/bin/sh"], cwd: "/" };
  const probe = { stat: () => ({ kind: "file" as const, mode: 0o755 }) };
  assert.throws(() => runInit(sys, s, probe, () => "", 40), FakeExec);
  const t = sys.trace();
  assert(t.some((l) => l.startsWith("mount /dev/null /proc/keys ")));
  assert(t.some((l) => l.startsWith("mount /dev/null /etc/x ")));
  assert(!t.some((l) => l.startsWith("mount /dev/null /proc/kcore ")));
});

Deno.test("--security-opt as Podman reads it", () => {
  assert.deepEqual(
    parseSecurityOpts([
      "seccomp=p.json",
      "no-new-privileges:true",
      "label=disable",
      "apparmor=unconfined",
      "mask=/a:/b",
      "unmask=/proc/kcore",
    ], "/work"),
    {
      noNewPrivileges: true,
      seccompProfile: "/work/p.json",
      mask: ["/a", "/b"],
      unmask: ["/proc/kcore"],
    },
  );
  const off = parseSecurityOpts(["no-new-privileges", "no-new-privileges=0"]);
  assert.equal(off.noNewPrivileges, false);
  assert.equal(
    parseSecurityOpts(["seccomp=unconfined"]).seccompProfile,
    "unconfined",
  );
  assert.deepEqual(parseSecurityOpts(["systempaths=unconfined"]).unmask, [
    "ALL",
  ]);
  for (const bad of ["nope", "seccomp", "no-new-privileges=yes", "x=y"]) {
    assert.throws(() => parseSecurityOpts([bad]), PtdError, bad);
  }
});
