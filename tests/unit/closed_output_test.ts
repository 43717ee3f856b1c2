import { assertEquals } from "../assert.ts";
import { closeFd, inheritablePipe, openRaw, readerGone } from "../../ffi/fd.ts";
import { endIfOutputClosed } from "../../src/runtime/closed_output.ts";

Deno.test("readerGone: a pipe's write end, before and after its reader closes", () => {
  const [r, w] = inheritablePipe();
  try {
    assertEquals(readerGone(w), false);
    closeFd(r);
    assertEquals(readerGone(w), true);
  } finally {
    closeFd(w);
  }
  const f = openRaw("/dev/null", "readwrite");
  try {
    // A file always takes writes: not a closed pipe.
    assertEquals(readerGone(f), false);
  } finally {
    closeFd(f);
  }
});

Deno.test("endIfOutputClosed: EPIPE elsewhere while our stdout is read is an ordinary error", () => {
  // The runner reads this process's stdout and stderr: were the check on
  // our own descriptors gone, this would kill the test process.
  const epipe = new Deno.errors.BrokenPipe("a container's stdin");
  endIfOutputClosed(epipe);
  endIfOutputClosed(new Error("wrapped", { cause: epipe }));
  endIfOutputClosed(new Error("not a pipe at all"));
});
