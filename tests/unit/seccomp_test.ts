/**
 * The seccomp compiler, held to the kernel's semantics by running its
 * programs in a classic BPF interpreter over seccomp_data, and its syscall
 * tables held to the installed kernel headers.
 */
import assert from "node:assert/strict";
import { compileSeccomp } from "../../src/security/compile.ts";
import { syscallNumbers } from "../../src/security/bpf.ts";
import {
  DEFAULT_SECCOMP_PROFILE,
  profileFile,
  seccompProgram,
} from "../../src/security/seccomp.ts";
import { DEFAULT_CAPS } from "../../src/runtime/caps.ts";
import { syscallHeaders } from "./syscall_headers.ts";

const AUDIT_X86_64 = 0xc000003e, AUDIT_I386 = 0x40000003;
const ALLOW = 0x7fff0000, KILL_PROCESS = 0x80000000;
const errno = (n: number) => 0x00050000 + n;

/** A call as seccomp_data describes it. */
interface Call {
  nr: number;
  arch?: number;
  args?: bigint[];
}

/** Runs a program (4 flag bytes, then sock_filters) on `call`. */
function run(program: Uint8Array, call: Call): number {
  const v = new DataView(program.buffer, program.byteOffset + 4);
  const data = new DataView(new ArrayBuffer(64));
  data.setUint32(0, call.nr, true);
  data.setUint32(4, call.arch ?? AUDIT_X86_64, true);
  (call.args ?? []).forEach((a, i) =>
    data.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true)
  );
  let a = 0;
  for (let pc = 0; pc * 8 < v.byteLength; pc++) {
    const code = v.getUint16(pc * 8, true), jt = v.getUint8(pc * 8 + 2);
    const jf = v.getUint8(pc * 8 + 3), k = v.getUint32(pc * 8 + 4, true);
    const jump = (c: boolean) => pc += c ? jt : jf;
    switch (code) {
      case 0x20:
        a = data.getUint32(k, true);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        jump(a === k);
        break;
      case 0x25:
        jump(a > k);
        break;
      case 0x35:
        jump(a >= k);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error("fell off the program");
}

const X86_64 = syscallNumbers("x86_64");
const nr = (name: string) => X86_64.get(name)!;
const defaultText = Deno.readTextFileSync(DEFAULT_SECCOMP_PROFILE);
const program = (caps = DEFAULT_CAPS, text = defaultText) =>
  compileSeccomp(text, "test.json", caps);

Deno.test("default profile: allowed, denied with EPERM, unknown with ENOSYS", () => {
  const p = program();
  assert.equal(run(p, { nr: nr("getpid") }), ALLOW);
  assert.equal(run(p, { nr: nr("mkdir") }), ALLOW);
  assert.equal(run(p, { nr: nr("kexec_load") }), errno(1));
  assert.equal(run(p, { nr: nr("vmsplice") }), errno(1));
  assert.equal(run(p, { nr: 1000 }), errno(38));
});

Deno.test("default profile: argument rules compare all 64 bits", () => {
  const p = program();
  const personality = (arg: bigint) =>
    run(p, { nr: nr("personality"), args: [arg] });
  assert.equal(personality(0n), ALLOW);
  assert.equal(personality(8n), ALLOW);
  assert.equal(personality(0xffffffffn), ALLOW);
  assert.equal(personality(1n), errno(38));
  assert.equal(personality(0x1_0000_0000n), errno(38));
  // Without CAP_AUDIT_WRITE (containers.conf's default set) audit sockets
  // are refused.
  const narrow = program(DEFAULT_CAPS.filter((c) => c !== "CAP_AUDIT_WRITE"));
  const socket = (...args: bigint[]) => run(narrow, { nr: nr("socket"), args });
  assert.equal(socket(16n, 3n, 9n), errno(22)); // NETLINK_AUDIT
  assert.equal(socket(16n, 3n, 0n), ALLOW);
  assert.equal(socket(2n, 1n, 9n), ALLOW);
});

Deno.test("default profile: rules follow the bounding set", () => {
  const without = program(DEFAULT_CAPS.filter((c) => c !== "CAP_SYS_CHROOT"));
  assert.equal(run(program(), { nr: nr("chroot") }), ALLOW);
  assert.equal(run(without, { nr: nr("chroot") }), errno(1));
  const admin = program([...DEFAULT_CAPS, "CAP_SYS_ADMIN"]);
  assert.equal(run(program(), { nr: nr("bpf") }), errno(1));
  assert.equal(run(admin, { nr: nr("bpf") }), ALLOW);
  // With CAP_AUDIT_WRITE socket is allowed without conditions.
  assert.equal(
    run(program(), { nr: nr("socket"), args: [16n, 3n, 9n] }),
    ALLOW,
  );
});

Deno.test("default profile: i386 and x32 have their numbers, other arches die", () => {
  const p = program();
  const i386 = syscallNumbers("x86");
  assert.equal(run(p, { nr: i386.get("getpid")!, arch: AUDIT_I386 }), ALLOW);
  assert.equal(
    run(p, { nr: i386.get("kexec_load")!, arch: AUDIT_I386 }),
    errno(1),
  );
  const x32 = syscallNumbers("x32");
  assert.equal(run(p, { nr: x32.get("getpid")! }), ALLOW);
  assert.equal(run(p, { nr: x32.get("kexec_load")! }), errno(1));
  assert.equal(run(p, { nr: nr("getpid"), arch: 0xc00000b7 }), KILL_PROCESS);
});

Deno.test("every comparison operator, on both halves", () => {
  const rule = (op: string, value: string, valueTwo = "0") => ({
    names: ["mkdir"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 5,
    args: [{
      index: 1,
      value: JSON.parse(value),
      valueTwo: Number(valueTwo),
      op,
    }],
  });
  const v = 0x1_0000_0002n;
  const ops: Record<string, (a: bigint) => boolean> = {
    SCMP_CMP_EQ: (a) => a === v,
    SCMP_CMP_NE: (a) => a !== v,
    SCMP_CMP_GT: (a) => a > v,
    SCMP_CMP_GE: (a) => a >= v,
    SCMP_CMP_LT: (a) => a < v,
    SCMP_CMP_LE: (a) => a <= v,
  };
  // Both halves around v's, alone and together.
  const samples = [0n, 2n, 3n, 0xffff_ffffn, v - 1n, v, v + 1n, 0x2_0000_0000n]
    .concat([0x2_0000_0002n, 0xffff_ffff_ffff_ffffn]);
  for (const [op, holds] of Object.entries(ops)) {
    const text = JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [rule(op, "0")],
    }).replace('"value":0', `"value":${v}`);
    const p = program([], text);
    for (const a of samples) {
      assert.equal(
        run(p, { nr: nr("mkdir"), args: [0n, a] }),
        holds(a) ? errno(5) : ALLOW,
        `${op} ${a}`,
      );
    }
  }
  // MASKED_EQ: value is the mask, valueTwo the datum.
  const masked = JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [rule("SCMP_CMP_MASKED_EQ", "0", "0")],
  }).replace(
    '"value":0,"valueTwo":0',
    '"value":18446744069414584320,"valueTwo":4294967296',
  );
  const p = program([], masked);
  assert.equal(
    run(p, { nr: nr("mkdir"), args: [0n, 0x1_0000_0007n] }),
    errno(5),
  );
  assert.equal(run(p, { nr: nr("mkdir"), args: [0n, 0x3_0000_0000n] }), ALLOW);
});

Deno.test("actions, and the default errno ENOSYS whatever the profile says", () => {
  const text = JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 13,
    syscalls: [
      { names: ["getpid"], action: "SCMP_ACT_ALLOW" },
      { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
      { names: ["rmdir"], action: "SCMP_ACT_KILL_PROCESS" },
      { names: ["unlink"], action: "SCMP_ACT_KILL" },
      { names: ["link"], action: "SCMP_ACT_TRAP" },
      { names: ["chmod"], action: "SCMP_ACT_LOG" },
      { names: ["chown"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
      { names: ["no_such_call"], action: "SCMP_ACT_ALLOW" },
    ],
  });
  const p = program([], text);
  assert.equal(run(p, { nr: nr("getpid") }), ALLOW);
  assert.equal(run(p, { nr: nr("mkdir") }), errno(1));
  assert.equal(run(p, { nr: nr("rmdir") }), KILL_PROCESS);
  assert.equal(run(p, { nr: nr("unlink") }), 0);
  assert.equal(run(p, { nr: nr("link") }), 0x00030000);
  assert.equal(run(p, { nr: nr("chmod") }), 0x7ffc0000);
  assert.equal(run(p, { nr: nr("chown") }), 0x7ff00007);
  // Podman 4.3's: defaultErrnoRet 38 in the container's spec.
  assert.equal(run(p, { nr: nr("open") }), errno(38));
});

Deno.test("the syscall tables are the kernel headers'", {
  ignore: Deno.build.arch !== "x86_64",
}, () => {
  for (const [arch, numbers] of Object.entries(syscallHeaders())) {
    assert.deepEqual(
      Object.fromEntries(syscallNumbers(arch)),
      Object.fromEntries(numbers),
      arch,
    );
  }
});

Deno.test("a compiled program is cached by profile digest and capabilities", async () => {
  const dir = Deno.makeTempDirSync();
  const programs = () =>
    [...Deno.readDirSync(`${dir}/seccomp`)].map((e) => e.name)
      .filter((n) => n.endsWith(".bpf"));
  try {
    const profile = `${dir}/p.json`;
    Deno.writeTextFileSync(profile, defaultText);
    // The program's file, in the cache: what a container names.
    const program = async (file: string, caps = DEFAULT_CAPS) =>
      Deno.readFileSync(await seccompProgram(dir, file, caps));
    const first = await program(profile);
    assert.equal(programs().length, 1);
    assert.equal(
      await seccompProgram(dir, profile, DEFAULT_CAPS),
      `${dir}/seccomp/${programs()[0]}`,
    );
    // What the cache holds is what is used, through the file's link too.
    Deno.writeFileSync(`${dir}/seccomp/${programs()[0]}`, new Uint8Array([1]));
    assert.deepEqual(await program(profile), new Uint8Array([1]));
    // The same text elsewhere is the same program: the digest is the key.
    Deno.writeTextFileSync(`${dir}/q.json`, defaultText);
    assert.deepEqual(await program(`${dir}/q.json`), new Uint8Array([1]));
    assert.equal(programs().length, 1);
    const more = await program(profile, [...DEFAULT_CAPS, "CAP_SYS_ADMIN"]);
    assert.notDeepEqual(more, first);
    assert.equal(programs().length, 2);
    // A rewritten profile is compiled again.
    Deno.writeTextFileSync(profile, defaultText.replace("kexec_load", "x"));
    const changed = await program(profile);
    assert.notDeepEqual(changed, new Uint8Array([1]));
    assert.equal(programs().length, 3);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("without containers-common, ptd's copy of the default rules is read", () => {
  const missing = "/nonexistent/containers/seccomp.json";
  const file = profileFile(missing, missing);
  assert.notEqual(file, missing);
  // The same rules as the package's file, where the package is there.
  assert.deepEqual(
    JSON.parse(Deno.readTextFileSync(file)),
    JSON.parse(Deno.readTextFileSync(DEFAULT_SECCOMP_PROFILE)),
  );
  assert.equal(
    profileFile("/some/profile.json", missing),
    "/some/profile.json",
  );
});
