/**
 * `--network` values: which network a container gets and how the user-mode
 * stacks are tuned.
 */
import { invalid } from "../runtime/errors.ts";

/** The user-mode stack a rootless container gets when nothing is asked. */
export const DEFAULT_STACK = "slirp4netns";

/** A parsed `--network` value. */
export interface NetworkMode {
  /**
   * slirp4netns/pasta: own namespace joined to the host by that stack;
   * none: own namespace with only `lo`; host: the host's namespace;
   * container/ns: the namespace of another container, or of a file.
   */
  kind: "slirp4netns" | "pasta" | "none" | "host" | "container" | "ns";
  /** container: the other container's name or id; ns: the file's path. */
  target?: string;
  /** Let the container reach the host's 127.0.0.1 (off by default). */
  allowHostLoopback: boolean;
  /** MTU of the container's interface; 0 keeps the stack's default. */
  mtu: number;
}

function parseStackOptions(kind: "slirp4netns" | "pasta", opts: string) {
  const mode: NetworkMode = { kind, allowHostLoopback: false, mtu: 0 };
  for (const o of opts ? opts.split(",") : []) {
    const [key, value = ""] = o.split("=", 2);
    if (key === "allow_host_loopback" && ["true", "false"].includes(value)) {
      mode.allowHostLoopback = value === "true";
    } else if (key === "mtu" && /^\d+$/.test(value)) {
      mode.mtu = Number(value);
    } else {
      throw invalid(`unsupported ${kind} option ${JSON.stringify(o)}`);
    }
  }
  return mode;
}

/**
 * Parses `--network`: `slirp4netns[:allow_host_loopback=true,mtu=N]`,
 * `pasta[:...]`, `none`, `host`, `container:NAME|ID`, `ns:PATH`; `private`
 * (and "") mean the default stack.
 */
export function parseNetworkMode(value: string): NetworkMode {
  const [name, opts = ""] = value.split(/:(.*)/s, 2);
  switch (name) {
    case "":
    case "private":
      if (opts) break;
      return parseStackOptions(DEFAULT_STACK, "");
    case "slirp4netns":
    case "pasta":
      return parseStackOptions(name, opts);
    case "none":
    case "host":
      if (opts) break;
      return { kind: name, allowHostLoopback: false, mtu: 0 };
    case "container":
      if (!opts) {
        throw invalid(`--network container: needs a container name or id`);
      }
      return { kind: name, target: opts, allowHostLoopback: false, mtu: 0 };
    case "ns":
      if (!opts.startsWith("/")) {
        throw invalid(
          `--network ${value}: want ns:PATH with an absolute path`,
        );
      }
      return { kind: name, target: opts, allowHostLoopback: false, mtu: 0 };
  }
  throw invalid(`unsupported --network ${JSON.stringify(value)}`);
}

/** Whether the container gets a network namespace of its own. */
export function privateNetwork(mode: NetworkMode): boolean {
  return mode.kind !== "host";
}

/** Whether the container enters a network namespace that exists already. */
export function joinsNetwork(mode: NetworkMode): boolean {
  return mode.kind === "container" || mode.kind === "ns";
}

/** Whether a user-mode stack runs beside the container. */
export function hasStack(mode: NetworkMode): boolean {
  return mode.kind === "slirp4netns" || mode.kind === "pasta";
}
