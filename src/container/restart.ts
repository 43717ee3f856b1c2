/** Docker's --restart values, parsed and checked. */
import { invalid } from "../runtime/errors.ts";
import type { RestartPolicy } from "./config.ts";

/** "no", "on-failure", "on-failure:3", "always", "unless-stopped". */
export function parseRestart(value: string): RestartPolicy {
  const [name, count, ...extra] = value.split(":");
  const bad = () =>
    new Error(
      `invalid restart policy ${
        JSON.stringify(value)
      }: use no, on-failure[:N], always or unless-stopped`,
    );
  if (extra.length > 0) throw bad();
  if (name === "on-failure") {
    if (count !== undefined && !/^\d+$/.test(count)) throw bad();
    return { name, maximumRetryCount: Number(count ?? 0) };
  }
  if (count !== undefined) {
    throw invalid(
      `restart count can only be used with the on-failure policy: ${value}`,
    );
  }
  if (name === "no" || name === "always" || name === "unless-stopped") {
    return { name, maximumRetryCount: 0 };
  }
  throw bad();
}

/**
 * Whether the policy brings the container back after exit `code`, when it
 * has been restarted `restarts` times already.
 */
export function shouldRestart(
  p: RestartPolicy,
  code: number,
  restarts: number,
): boolean {
  switch (p.name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return code !== 0 &&
        (p.maximumRetryCount === 0 || restarts < p.maximumRetryCount);
    default:
      return false;
  }
}
