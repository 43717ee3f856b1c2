/**
 * Syscall numbers as the installed kernel headers define them, through the
 * C preprocessor: the source of src/security/syscall_table.ts and what its
 * test compares it with.
 */

/** The prelude that makes each architecture's header list its numbers. */
const HEADERS: Record<string, string> = {
  x86_64: "#include <asm/unistd_64.h>",
  x86: "#include <asm/unistd_32.h>",
  x32: "#define __X32_SYSCALL_BIT 0x40000000\n#include <asm/unistd_x32.h>",
  // arm64's own header only sets these before the generic table.
  aarch64: [
    "#define __BITS_PER_LONG 64",
    "#define __ARCH_WANT_RENAMEAT",
    "#define __ARCH_WANT_NEW_STAT",
    "#define __ARCH_WANT_SET_GET_RLIMIT",
    "#define __ARCH_WANT_TIME32_SYSCALLS",
    "#define __ARCH_WANT_SYS_CLONE3",
    "#define __ARCH_WANT_MEMFD_SECRET",
    "#include <asm-generic/unistd.h>",
  ].join("\n"),
};

function cpp(source: string, flags: string[]): string {
  const file = Deno.makeTempFileSync({ suffix: ".h" });
  try {
    Deno.writeTextFileSync(file, source);
    const r = new Deno.Command("gcc", { args: ["-E", ...flags, file] })
      .outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    return new TextDecoder().decode(r.stdout);
  } finally {
    Deno.removeSync(file);
  }
}

/** Name -> number of every syscall, per architecture; needs gcc. */
export function syscallHeaders(): Record<string, Map<string, number>> {
  const out: Record<string, Map<string, number>> = {};
  for (const [arch, prelude] of Object.entries(HEADERS)) {
    const names = [...cpp(prelude, ["-dM"]).matchAll(/#define __NR_(\w+) /g)]
      .map((m) => m[1]).filter((n) =>
        n !== "syscalls" && n !== "arch_specific_syscall"
      );
    const body = names.map((n) => `@@ ${n} __NR_${n}`).join("\n");
    const map = new Map<string, number>();
    for (const line of cpp(`${prelude}\n${body}\n`, ["-P"]).split("\n")) {
      const m = line.match(/^@@ (\w+) (.+)$/);
      if (!m) continue;
      const expr = m[2].replace(/[()\s]/g, "");
      if (!/^(0x[0-9a-f]+|\d+)(\+(0x[0-9a-f]+|\d+))*$/i.test(expr)) continue;
      map.set(m[1], expr.split("+").reduce((a, t) => a + Number(t), 0));
    }
    out[arch] = map;
  }
  return out;
}
