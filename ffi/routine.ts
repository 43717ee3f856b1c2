/**
 * What the native routines (clone child, exec, join) share: bytes written as
 * a hex listing, the choice of the routine for the machine ptd runs on, and
 * the x86-64 assembly that enters namespaces and forks.
 */

/** Bytes from a hex listing; white space is ignored. */
export function hexBytes(listing: string): Uint8Array {
  const hex = listing.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: hex.length / 2 },
    (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  );
}

/** The routine for this machine, or a clear error where there is none yet. */
export function routineFor(
  what: string,
  byArch: Partial<Record<typeof Deno.build.arch, Uint8Array>>,
): Uint8Array {
  const code = byArch[Deno.build.arch];
  if (code) return code;
  throw new Error(
    `ptd: no ${what} for ${Deno.build.arch} yet (only ${
      Object.keys(byArch).join(", ")
    })`,
  );
}

/** Where setnsForkAsm finds its inputs, and where it goes next. */
export interface SetnsFork {
  /** Offset in the block (rbx) of the int32* list of fds, -1 at its end. */
  fds: number;
  /** The instruction that loads the clone flags into rdi/edi. */
  loadFlags: string;
  /** Offset in the block of the pid pipe's fd. */
  pidPipe: number;
  /** Label jumped to with -errno in rax when setns or clone fails. */
  fail: string;
  /** Label where the new process goes on. */
  child: string;
}

/**
 * x86-64 assembly (the block in rbx): setns() into each fd of the list,
 * then a raw clone with fork semantics (newsp 0, so both sides go on with
 * the same stack); the intermediate writes the new pid (4 bytes) to the pid
 * pipe and exits 0. Uses r12 and the local labels 1 and 2.
 */
export function setnsForkAsm(o: SetnsFork): string {
  return `
  mov r12, [rbx+${o.fds}]
1:
  movsxd rdi, dword ptr [r12]
  cmp rdi, -1
  je 2f
  xor esi, esi
  mov eax, 308
  syscall
  test rax, rax
  jnz ${o.fail}
  add r12, 4
  jmp 1b
2:
  ${o.loadFlags}
  xor esi, esi
  xor edx, edx
  xor r10d, r10d
  xor r8d, r8d
  mov eax, 56
  syscall
  test rax, rax
  js ${o.fail}
  jz ${o.child}
  mov [rsp-8], eax
  mov rdi, [rbx+${o.pidPipe}]
  lea rsi, [rsp-8]
  mov edx, 4
  mov eax, 1
  syscall
  xor edi, edi
  mov eax, 231
  syscall
`;
}
