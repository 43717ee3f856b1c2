/**
 * The runtime spec the init unit tests start from: an overlay root, one
 * /etc file, sh -c true as root in /work, rootless with its own network.
 */
import type { RuntimeSpec } from "../../src/runtime/spec.ts";
import { DEFAULT_CAPS } from "../../src/runtime/caps.ts";

/** The base spec with `over` on top. */
export function spec(over: Partial<RuntimeSpec> = {}): RuntimeSpec {
  return {
    id: "c0ffee",
    rootfs: { lower: ["/l"], upper: "/u", work: "/w", merged: "/m" },
    hostname: "box",
    etcFiles: { "/etc/hosts": "/run/c/hosts" },
    mounts: [],
    process: {
      args: ["sh", "-c", "true"],
      env: ["A=1"],
      cwd: "/work",
      user: "",
      groups: [],
      stdin: false,
      capabilities: DEFAULT_CAPS,
      noNewPrivileges: false,
    },
    rootless: true,
    privateNetwork: true,
    privileged: false,
    readonlyRootfs: false,
    dieWithParent: true,
    ...over,
  };
}
