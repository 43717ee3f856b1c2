/**
 * Podman's --noout: the process's stdout goes to /dev/null at the
 * descriptor, so whatever would write there (console.log, a foreground
 * container's relayed output, a child that inherits fd 1) writes nothing.
 */
import { closeFd, dupOnto, openRaw } from "../../ffi/fd.ts";

/** Points fd 1 at /dev/null. */
export function discardStdout(): void {
  const fd = openRaw("/dev/null", "readwrite");
  dupOnto(fd, 1);
  closeFd(fd);
}
