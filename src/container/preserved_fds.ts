/** --preserve-fds: descriptors a command inherits from the caller. */
import { isInherited } from "../../ffi/fd.ts";
import { invalid } from "../runtime/errors.ts";

/**
 * Checks that --preserve-fds has descriptors to pass: open ones this
 * process inherited (Podman's error otherwise).
 */
export function checkPreservedFds(n: number) {
  for (let fd = 3; fd < 3 + n; fd++) {
    if (!isInherited(fd)) {
      throw invalid(
        `file descriptor ${fd} is not available - the preserve-fds option requires that file descriptors must be passed`,
      );
    }
  }
}
