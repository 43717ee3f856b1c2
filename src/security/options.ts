/**
 * `--security-opt` as Podman reads it: `KEY=VALUE` (or Docker's older
 * `KEY:VALUE`), with Podman's errors for what it does not know.
 */
import { invalid } from "../runtime/errors.ts";

/** What the options ask of the container. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "unconfined" or a profile file; absent, the configured default. */
  seccompProfile?: string;
  /** Paths to mask besides the default ones (mask=A:B). */
  mask: string[];
  /** Default masked paths to leave visible, or "ALL" (unmask=A:B). */
  unmask: string[];
}

/** Go's strconv.ParseBool. */
function goBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/**
 * Whether AppArmor is on: ptd applies no AppArmor profile, so only
 * `apparmor=unconfined` is honest where it is.
 */
function apparmorEnabled(): boolean {
  try {
    return Deno.readTextFileSync("/sys/module/apparmor/parameters/enabled")
      .trim() === "Y";
  } catch {
    return false;
  }
}

/** Parses `--security-opt` values; `cwd` resolves a relative profile path. */
export function parseSecurityOpts(
  items: string[],
  cwd = Deno.cwd(),
): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, mask: [], unmask: [] };
  for (const opt of items) {
    const sep = opt.includes("=") ? "=" : ":";
    const at = opt.indexOf(sep);
    const [key, value] = at < 0
      ? [opt, undefined]
      : [opt.slice(0, at), opt.slice(at + 1)];
    if (value === undefined && key !== "no-new-privileges") {
      throw invalid(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    }
    const bad = () =>
      invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    switch (key) {
      case "no-new-privileges": {
        const on = value === undefined ? true : goBool(value);
        if (on === undefined) throw bad();
        out.noNewPrivileges = on;
        break;
      }
      case "seccomp":
        out.seccompProfile = value === "unconfined" || value!.startsWith("/")
          ? value
          : `${cwd}/${value}`;
        break;
      case "apparmor":
        if (value !== "unconfined" && value !== "") {
          throw invalid(
            apparmorEnabled()
              ? `apparmor profile ${
                JSON.stringify(value)
              }: ptd applies no AppArmor profiles (apparmor=unconfined)`
              : `apparmor profile ${
                JSON.stringify(value)
              } specified, but Apparmor is not enabled on this system`,
          );
        }
        break;
      case "label":
        // No SELinux here: labels are accepted and mean nothing, as in Podman.
        break;
      case "mask":
        out.mask.push(...value!.split(":"));
        break;
      case "unmask":
        out.unmask.push(...value!.split(":"));
        break;
      case "systempaths":
        if (value !== "unconfined") {
          throw invalid(
            `invalid systempaths option ${
              JSON.stringify(value)
            }, only \`unconfined\` is supported`,
          );
        }
        out.unmask.push("ALL");
        break;
      default:
        throw bad();
    }
  }
  return out;
}

/** One option's values as given, in `KEY=VALUE` form. */
function given(items: string[], key: string): string[] {
  return items.filter((o) => o.startsWith(`${key}=`) || o.startsWith(`${key}:`))
    .map((o) => `${key}=${o.slice(key.length + 1)}`);
}

/** What inspect's HostConfig.SecurityOpt shows, in Podman's order. */
export function inspectSecurityOpt(
  host: { noNewPrivileges: boolean; securityOpt?: string[] },
): string[] {
  const items = host.securityOpt ?? [];
  return [
    ...(host.noNewPrivileges ? ["no-new-privileges"] : []),
    ...given(items, "label"),
    ...given(items, "seccomp").slice(-1),
    ...given(items, "apparmor"),
  ];
}
