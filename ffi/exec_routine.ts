/**
 * The native routine behind `ptd exec`: a clone()d child of the CLI enters a
 * running container and execs the command there, without JavaScript (see
 * DESIGN.md). Steps, each failure ending in an exit code written as one byte
 * to the error pipe: make itself non-dumpable (so no container process can
 * open its /proc/PID/exe, the ptd/deno binary, before execve: runc
 * CVE-2019-5736); setns() into each namespace fd (user first, then mount,
 * then the rest, pid last); fork a sibling (CLONE_PARENT, so the CLI is its
 * parent and waits for it) that is born in the container's PID namespace;
 * the intermediate writes the sibling's pid to the pid pipe and exits. The
 * sibling puts its stdio fds on 0/1/2 (with a terminal: a new session whose
 * controlling terminal is fd 0, TIOCSCTTY), takes the container's root (fchdir to
 * an fd of /proc/PID/root of its init and chroot: the root that process
 * sees, whatever the mount namespace's root is), chdir()s, drops the bounding
 * capabilities the container does not have, loads the container's seccomp
 * filter (while it is still root of the user namespace, as a filter without
 * no_new_privs needs), sets groups (skipped when the
 * count is negative: a single-id map denies setgroups), gid, uid (keeping
 * its capabilities when a user other than root is to have some: then
 * capset and the ambient set carry them, as Podman gives them),
 * no_new_privs, marks every descriptor from the one @176 on close-on-exec
 * (close_range: none of the CLI's reaches the command but those
 * --preserve-fds passes; the error pipe still reports a failed execve), then tries execve() on each candidate path: 127 when none
 * exists, 126 when one cannot be run, 125 when the namespaces cannot be
 * entered.
 *
 * Label 30 is prctl(edi, rsi, rdx), called with the arena's stack.
 *
 * Argument block (8-byte slots): @0 int32* ns fds (-1 ends), @8 char**
 * candidate paths, @16 argv, @24 envp, @32 cwd, @40 uint32* groups,
 * @48 group count, @56 uid, @64 gid, @72 capability bits to keep, @80 last
 * capability, @88 pid pipe fd, @96 error pipe fd, @104 no_new_privs,
 * @112..@128 stdin, stdout, stderr fds, @136 fd of the container's root
 * (-1: keep the namespace's), @144 nonzero: stdin is a terminal to make
 * the controlling one, @152 struct sock_fprog* of the seccomp filter (0:
 * none), @160 its seccomp(2) flags, @168 capability bits a user other than
 * root keeps in every set, ambient included (0: none), @176 the first
 * descriptor not passed on (3, or 3+N with --preserve-fds N).
 *
 * tests/unit/ffi_test.ts reassembles ASM with binutils and compares.
 */

import { hexBytes, routineFor, setnsForkAsm } from "./routine.ts";

/** Intel-syntax source of the x86-64 exec routine. */
export const EXEC_ASM_X86_64 = `.intel_syntax noprefix
  mov rbx, rdi
  mov edi, 4
  mov esi, 0
  xor edx, edx
  call 30f
${
  setnsForkAsm({
    fds: 0,
    loadFlags: "mov edi, 0x8011",
    pidPipe: 88,
    fail: "20f",
    child: "3f",
  })
}3:
  xor r12d, r12d
4:
  mov rdi, [rbx+112+r12*8]
  mov esi, r12d
  mov eax, 33
  syscall
  inc r12
  cmp r12, 3
  jne 4b
  cmp qword ptr [rbx+144], 0
  je 13f
  mov eax, 112
  syscall
  xor edi, edi
  mov esi, 0x540e
  xor edx, edx
  mov eax, 16
  syscall
  test rax, rax
  jnz 21f
13:
  mov rdi, [rbx+136]
  test rdi, rdi
  js 12f
  mov eax, 81
  syscall
  test rax, rax
  jnz 21f
  mov word ptr [rsp-16], 0x2e
  lea rdi, [rsp-16]
  mov eax, 161
  syscall
  test rax, rax
  jnz 21f
12:
  mov rdi, [rbx+32]
  mov eax, 80
  syscall
  test rax, rax
  jnz 21f
  xor r12d, r12d
5:
  cmp r12, [rbx+80]
  ja 7f
  mov rax, [rbx+72]
  bt rax, r12
  jc 6f
  mov edi, 24
  mov rsi, r12
  xor edx, edx
  call 30f
  test rax, rax
  jnz 21f
6:
  inc r12
  jmp 5b
7:
  mov rdx, [rbx+152]
  test rdx, rdx
  jz 14f
  mov edi, 1
  mov rsi, [rbx+160]
  mov eax, 317
  syscall
  test rax, rax
  jnz 21f
14:
  cmp qword ptr [rbx+168], 0
  je 15f
  mov edi, 8
  mov esi, 1
  xor edx, edx
  call 30f
15:
  mov rdi, [rbx+48]
  test rdi, rdi
  js 8f
  mov rsi, [rbx+40]
  mov eax, 116
  syscall
  test rax, rax
  jnz 21f
8:
  mov rdi, [rbx+64]
  mov rsi, rdi
  mov rdx, rdi
  mov eax, 119
  syscall
  test rax, rax
  jnz 21f
  mov rdi, [rbx+56]
  mov rsi, rdi
  mov rdx, rdi
  mov eax, 117
  syscall
  test rax, rax
  jnz 21f
  mov rax, [rbx+168]
  test rax, rax
  jz 16f
  lea rdi, [rsp-64]
  mov dword ptr [rdi], 0x20080522
  mov dword ptr [rdi+4], 0
  lea rsi, [rsp-56]
  mov [rsi], eax
  mov [rsi+4], eax
  mov [rsi+8], eax
  shr rax, 32
  mov [rsi+12], eax
  mov [rsi+16], eax
  mov [rsi+20], eax
  mov eax, 126
  syscall
  test rax, rax
  jnz 21f
  xor r12d, r12d
17:
  mov rax, [rbx+168]
  bt rax, r12
  jnc 18f
  mov edi, 47
  mov esi, 2
  mov rdx, r12
  call 30f
  test rax, rax
  jnz 21f
18:
  inc r12
  cmp r12, 64
  jne 17b
16:
  cmp qword ptr [rbx+104], 0
  je 9f
  mov edi, 38
  mov esi, 1
  xor edx, edx
  call 30f
  test rax, rax
  jnz 21f
9:
  mov edi, [rbx+176]
  mov esi, -1
  mov edx, 4
  mov eax, 436
  syscall
  mov r12, [rbx+8]
  mov r13d, 127
10:
  mov rdi, [r12]
  test rdi, rdi
  jz 22f
  mov rsi, [rbx+16]
  mov rdx, [rbx+24]
  mov eax, 59
  syscall
  cmp rax, -2
  je 11f
  mov r13d, 126
11:
  add r12, 8
  jmp 10b
20:
  mov r13d, 125
  jmp 22f
21:
  mov r13d, 126
22:
  mov [rsp-8], r13b
  mov rdi, [rbx+96]
  lea rsi, [rsp-8]
  mov edx, 1
  mov eax, 1
  syscall
  mov edi, r13d
  mov eax, 231
  syscall
30:
  xor r10d, r10d
  xor r8d, r8d
  mov eax, 157
  syscall
  ret
`;

/** EXEC_ASM_X86_64 assembled. */
export const EXEC_CODE_X86_64 = hexBytes(`
  4889fbbf04000000be0000000031d2e8cf0200004c8b2349633c244883ffff74
  1831f6b8340100000f054885c00f857e0200004983c404ebdebf1180000031f6
  31d24531d24531c0b8380000000f054885c00f88590200007422894424f8488b
  7b58488d7424f8ba04000000b8010000000f0531ffb8e70000000f054531e44a
  8b7ce3704489e6b8210000000f0549ffc44983fc0375e84883bb900000000074
  20b8700000000f0531ffbe0e54000031d2b8100000000f054885c00f85f80100
  00488bbb880000004885ff782cb8510000000f054885c00f85dc01000066c744
  24f02e00488d7c24f0b8a10000000f054885c00f85c0010000488b7b20b85000
  00000f054885c00f85ac0100004531e44c3b63507727488b43484c0fa3e07218
  bf180000004c89e631d2e8b40100004885c00f858101000049ffc4ebd3488b93
  980000004885d2741cbf01000000488bb3a0000000b83d0100000f054885c00f
  85540100004883bba8000000007411bf08000000be0100000031d2e863010000
  488b7b304885ff7814488b7328b8740000000f054885c00f851c010000488b7b
  404889fe4889fab8770000000f054885c00f8502010000488b7b384889fe4889
  fab8750000000f054885c00f85e8000000488b83a80000004885c0746c488d7c
  24c0c70722050820c7470400000000488d7424c8890689460489460848c1e820
  89460c894610894614b87e0000000f054885c00f85a00000004531e4488b83a8
  0000004c0fa3e07317bf2f000000be020000004c89e2e8a80000004885c07579
  49ffc44983fc4075d348837b68007416bf26000000be0100000031d2e8820000
  004885c075538bbbb0000000beffffffffba04000000b8b40100000f054c8b63
  0841bd7f000000498b3c244885ff742f488b7310488b5318b83b0000000f0548
  83f8fe740641bd7e0000004983c408ebd641bd7d000000eb0641bd7e00000044
  886c24f8488b7b60488d7424f8ba01000000b8010000000f054489efb8e70000
  000f054531d24531c0b89d0000000f05c3
`);

/** The exec routine for this machine. */
export function execRoutine(): Uint8Array {
  return routineFor("exec routine", { x86_64: EXEC_CODE_X86_64 });
}
