/**
 * The native routine a clone()d child runs instead of JavaScript (Deno's heap
 * is MADV_DONTFORK, so JS never runs in a child). It waits for one byte on the
 * sync pipe, which the parent sends once the uid/gid maps are written, then
 * execve()s. Argument block: int fd @0, char* path @8, char** argv @16,
 * char** envp @24. Any failure ends the child with status 127.
 *
 * The assembly is the source; the bytes are what runs. tests/unit/ffi_test.ts
 * reassembles ASM with binutils and compares, so nobody has to trust the hex.
 */

/** Intel-syntax source of the x86-64 routine. */
export const ASM_X86_64 = `
.intel_syntax noprefix
  mov rbx, rdi
  mov edi, [rbx]
  lea rsi, [rsp-16]
  mov edx, 1
  xor eax, eax
  syscall
  cmp rax, 1
  jne 1f
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

/** ASM_X86_64 assembled: read(fd) -> execve(path, argv, envp) -> exit(127). */
export const CODE_X86_64 = new Uint8Array([
  0x48,
  0x89,
  0xfb,
  0x8b,
  0x3b,
  0x48,
  0x8d,
  0x74,
  0x24,
  0xf0,
  0xba,
  0x01,
  0x00,
  0x00,
  0x00,
  0x31,
  0xc0,
  0x0f,
  0x05,
  0x48,
  0x83,
  0xf8,
  0x01,
  0x75,
  0x13,
  0x48,
  0x8b,
  0x7b,
  0x08,
  0x48,
  0x8b,
  0x73,
  0x10,
  0x48,
  0x8b,
  0x53,
  0x18,
  0xb8,
  0x3b,
  0x00,
  0x00,
  0x00,
  0x0f,
  0x05,
  0xbf,
  0x7f,
  0x00,
  0x00,
  0x00,
  0xb8,
  0xe7,
  0x00,
  0x00,
  0x00,
  0x0f,
  0x05,
]);

/** The routine for this machine, or a clear error where there is none yet. */
export function childRoutine(): Uint8Array {
  if (Deno.build.arch === "x86_64") return CODE_X86_64;
  throw new Error(
    `ptd: no clone child routine for ${Deno.build.arch} yet (only x86_64)`,
  );
}
