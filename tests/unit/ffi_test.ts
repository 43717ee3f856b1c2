import { assertEquals, assertMatch } from "../assert.ts";
import { ASM_X86_64, CODE_X86_64 } from "../../ffi/child_routine.ts";
import { EXEC_ASM_X86_64, EXEC_CODE_X86_64 } from "../../ffi/exec_routine.ts";
import { JOIN_ASM_X86_64, JOIN_CODE_X86_64 } from "../../ffi/join_routine.ts";
import { errnoName, SysError } from "../../ffi/errno.ts";
import { exitCode } from "../../ffi/clone.ts";

async function assemble(asm: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/r.s`, `${asm}\n`);
    for (
      const [cmd, args] of [
        ["as", ["--64", "-o", `${dir}/r.o`, `${dir}/r.s`]],
        ["objcopy", [
          "-O",
          "binary",
          "-j",
          ".text",
          `${dir}/r.o`,
          `${dir}/r.bin`,
        ]],
      ] as const
    ) {
      const out = await new Deno.Command(cmd, { args: [...args] }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    return await Deno.readFile(`${dir}/r.bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("x86-64 clone child routine matches its assembly (binutils)", async () => {
  assertEquals([...await assemble(ASM_X86_64)], [...CODE_X86_64]);
});

Deno.test("x86-64 exec routine matches its assembly (binutils)", async () => {
  assertEquals([...await assemble(EXEC_ASM_X86_64)], [...EXEC_CODE_X86_64]);
});

Deno.test("x86-64 join routine matches its assembly (binutils)", async () => {
  assertEquals([...await assemble(JOIN_ASM_X86_64)], [...JOIN_CODE_X86_64]);
});

Deno.test("SysError names the call, subject and errno", () => {
  const e = new SysError("mount", 1, "Operation not permitted", "/proc");
  assertEquals(e.message, "mount /proc: EPERM (Operation not permitted)");
  assertEquals(e.code, "EPERM");
  assertMatch(errnoName(9999), /errno 9999/);
});

Deno.test("wait status decodes like a shell", () => {
  assertEquals(exitCode(3 << 8), 3);
  assertEquals(exitCode(9), 137);
  assertEquals(exitCode(15), 143);
});
