/**
 * --pid and --uts as Podman reads them: a namespace of the container's own
 * (private), the host's, another container's (container:NAME, found at each
 * start) or one at a path (ns:PATH). Parsed once at create, where what they
 * name must exist; turned into what `ptd init`'s parent enters at start.
 */
import { invalid } from "../runtime/errors.ts";
import type { RuntimeSpec } from "../runtime/spec.ts";
import type { ContainerStore } from "./store.ts";
import { checkNsTarget, ipcTarget } from "./namespaces.ts";

/** A parsed --pid or --uts. */
export type SharedNsMode =
  | "private"
  | "host"
  | `container:${string}`
  | `ns:${string}`;

/** The namespaces these flags choose, as Podman names them in errors. */
export type SharedNsKind = "pid" | "uts";

/** A file error in Go's words, as Podman quotes a failed stat. */
function statError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (e as Error).message;
}

/** Parses --pid or --uts: private ("" too), host, container:NAME, ns:PATH. */
export function parseSharedNs(value: string): SharedNsMode {
  if (value === "" || value === "private") return "private";
  if (value === "host") return value;
  if (value === "ns:") {
    throw invalid(
      "invalid config provided: namespace mode path requires a value",
    );
  }
  if (/^(container|ns):./s.test(value)) return value as SharedNsMode;
  throw invalid(`unrecognized namespace mode ${value} passed`);
}

/** Checks --pid and --uts at create (see checkSharedNs). */
export function checkSharedNamespaces(
  store: ContainerStore,
  host: { pid?: SharedNsMode; uts?: SharedNsMode },
  hostname: string | undefined,
) {
  checkSharedNs(store, "pid", host.pid, undefined);
  checkSharedNs(store, "uts", host.uts, hostname);
}

/**
 * What create checks, with Podman's errors: the container named exists, a
 * path is there; --uts host leaves no hostname to set.
 */
function checkSharedNs(
  store: ContainerStore,
  kind: SharedNsKind,
  mode: SharedNsMode | undefined,
  hostname: string | undefined,
) {
  if (mode === undefined || mode === "private") return;
  if (kind === "uts" && mode === "host" && hostname) {
    throw invalid(
      "invalid config provided: cannot set hostname when running in the host UTS namespace: invalid configuration",
    );
  }
  const target = ipcTarget(mode);
  if (target !== undefined) checkNsTarget(store, kind, target);
  else if (mode.startsWith("ns:")) {
    const path = mode.slice(3);
    try {
      Deno.statSync(path);
    } catch (e) {
      throw invalid(
        `cannot find specified ${kind.toUpperCase()} namespace path: stat ${path}: ${
          statError(e)
        }`,
      );
    }
  }
}

/** The spec's part for --pid and --uts. */
export async function sharedNamespacesSpec(
  host: { pid?: SharedNsMode; uts?: SharedNsMode },
  pidOf: (ref: string, what: string) => Promise<number>,
): Promise<Partial<RuntimeSpec>> {
  return {
    ...await sharedNsSpec("pid", host.pid, pidOf),
    ...await sharedNsSpec("uts", host.uts, pidOf),
  };
}

/**
 * The spec's part for one mode: nothing for private, "host", or the file
 * of the namespace to join (`pidOf` finds a running container's pid).
 */
async function sharedNsSpec(
  kind: SharedNsKind,
  mode: SharedNsMode | undefined,
  pidOf: (ref: string, what: string) => Promise<number>,
): Promise<Partial<RuntimeSpec>> {
  if (mode === undefined || mode === "private") return {};
  const join = kind === "pid" ? "joinPid" : "joinUts";
  if (mode === "host") return { [kind]: "host" };
  const target = ipcTarget(mode);
  if (target === undefined) return { [join]: mode.slice(3) };
  const pid = await pidOf(target, `${kind.toUpperCase()} namespace`);
  return { [join]: `/proc/${pid}/ns/${kind}` };
}
