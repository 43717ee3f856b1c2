/**
 * The native routine that starts a container in namespaces that already
 * exist (`--network container:NAME`, `ns:PATH`). A rootless process may
 * setns() into a network namespace only from inside the user namespace that
 * owns it, and only a single-threaded process may enter a user namespace:
 * so the clone()d child (no JavaScript, see DESIGN.md) setns()es into each
 * fd of a -1-terminated int32 list (owning user namespace first), then
 * forks with the caller's new-namespace flags plus CLONE_PARENT, so the
 * container process is the caller's own child, born in the joined
 * namespaces and new ones of its own. The intermediate writes that pid (4
 * bytes) to the pid pipe and exits 0; when setns or clone fails it exits
 * with the errno instead. The new process runs the clone child routine
 * (child_routine.ts) unchanged: wait for the sync byte, execve, else 127.
 *
 * Argument block (8-byte slots): @0 sync fd, @8 path, @16 argv, @24 envp
 * (the child routine's block), @32 int32* namespace fds, @40 clone flags
 * (with CLONE_PARENT and the exit signal), @48 pid pipe fd, @56 the sync
 * pipe's write end (the child routine closes it).
 *
 * tests/unit/ffi_test.ts reassembles JOIN_ASM_X86_64 with binutils and
 * compares.
 */
import { ASM_X86_64, CODE_X86_64 } from "./child_routine.ts";
import { hexBytes, routineFor, setnsForkAsm } from "./routine.ts";

/** Intel-syntax source of the part before the child routine. */
const JOIN_PREFIX_ASM = `.intel_syntax noprefix
  mov rbx, rdi
${
  setnsForkAsm({
    fds: 32,
    loadFlags: "mov rdi, [rbx+40]",
    pidPipe: 48,
    fail: "13f",
    child: "12f",
  })
}13:
  neg eax
  mov edi, eax
  mov eax, 231
  syscall
12:
  mov rdi, rbx
`;

/**
 * Intel-syntax source of the x86-64 join routine: the setns/fork prefix,
 * then the new process falls through into the child routine with its block.
 */
export const JOIN_ASM_X86_64 = JOIN_PREFIX_ASM + ASM_X86_64;

/** JOIN_PREFIX_ASM assembled. */
const JOIN_PREFIX_CODE_X86_64 = hexBytes(`
  4889fb4c8b632049633c244883ffff741431f6b8340100000f054885c075
  444983c404ebe2488b7b2831f631d24531d24531c0b8380000000f054885
  c07824742d894424f8488b7b30488d7424f8ba04000000b8010000000f05
  31ffb8e70000000f05f7d889c7b8e70000000f054889df
`);

/** JOIN_ASM_X86_64 assembled. */
export const JOIN_CODE_X86_64 = new Uint8Array([
  ...JOIN_PREFIX_CODE_X86_64,
  ...CODE_X86_64,
]);

/** The join routine for this machine. */
export function joinRoutine(): Uint8Array {
  return routineFor("join routine", { x86_64: JOIN_CODE_X86_64 });
}
