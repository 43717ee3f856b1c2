/**
 * The native routine a clone()d child runs instead of JavaScript (Deno's heap
 * is MADV_DONTFORK, so JS never runs in a child). It waits for one byte on the
 * sync pipe, which the parent sends once the uid/gid maps are written, then
 * execve()s. Argument block: int fd @0, char* path @8, char** argv @16,
 * char** envp @24, int write end of the sync pipe @56. Any failure ends the
 * child with status 127.
 *
 * The child must never outlive its parent, whenever the parent dies: it asks
 * for SIGKILL at its parent's death (PR_SET_PDEATHSIG, kept across the
 * execve of init), and closes its copy of the pipe's write end, so that a
 * parent that died before that request still ends the wait with EOF.
 *
 * Before execve it becomes uid and gid 0 of its namespace: with the user's
 * own map it is that already, but a map where the user is not root
 * (--userns keep-id, nomap, --uidmap) would leave init an ordinary user
 * without capabilities after execve. Where 0 is not mapped the calls fail
 * and change nothing. A change of uid clears the parent-death signal, so
 * it is asked for again after them.
 *
 * The assembly is the source; the bytes are what runs. tests/unit/ffi_test.ts
 * reassembles ASM with binutils and compares, so nobody has to trust the hex.
 */

import { hexBytes, routineFor } from "./routine.ts";

/** Intel-syntax source of the x86-64 routine. */
export const ASM_X86_64 = `
.intel_syntax noprefix
  mov rbx, rdi
  mov edi, 1
  mov esi, 9
  mov eax, 157
  syscall
  mov edi, [rbx+56]
  mov eax, 3
  syscall
  mov edi, [rbx]
  lea rsi, [rsp-16]
  mov edx, 1
  xor eax, eax
  syscall
  cmp rax, 1
  jne 1f
  xor edi, edi
  xor esi, esi
  xor edx, edx
  mov eax, 119
  syscall
  xor edi, edi
  xor esi, esi
  xor edx, edx
  mov eax, 117
  syscall
  mov edi, 1
  mov esi, 9
  mov eax, 157
  syscall
  mov rdi, [rbx+8]
  mov rsi, [rbx+16]
  mov rdx, [rbx+24]
  mov eax, 59
  syscall
1:
  mov edi, 127
  mov eax, 231
  syscall
`;

/**
 * ASM_X86_64 assembled: prctl(PR_SET_PDEATHSIG, SIGKILL) -> close(write end)
 * -> read(fd) -> setresgid(0, 0, 0) -> setresuid(0, 0, 0) -> prctl again
 * -> execve(path, argv, envp) -> exit(127).
 */
export const CODE_X86_64 = hexBytes(`
  4889fbbf01000000be09000000b89d0000000f058b7b38b8030000000f058b3b
  488d7424f0ba0100000031c00f054883f801753e31ff31f631d2b8770000000f
  0531ff31f631d2b8750000000f05bf01000000be09000000b89d0000000f0548
  8b7b08488b7310488b5318b83b0000000f05bf7f000000b8e70000000f05
`);

/** The clone child routine for this machine. */
export function childRoutine(): Uint8Array {
  return routineFor("clone child routine", { x86_64: CODE_X86_64 });
}
