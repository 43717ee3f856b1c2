/**
 * `ptd doctor`'s checks: everything rootless containers need from the host,
 * each with the exact command that fixes a gap. The checks try the real thing
 * where that is cheap (a user namespace is actually cloned).
 */
import { CLONE_NEWUSER } from "../../ffi/constants.ts";
import { cloneExec, exitCode, waitStatus } from "../../ffi/clone.ts";
import { subRanges, userName } from "../runtime/idmap.ts";
import { which } from "../runtime/tools.ts";
import { delegation, isDelegated, type NoDelegation } from "../cgroup/host.ts";

/** One finding: `fail` blocks rootless containers, `warn` limits them. */
export interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  /** The command that fixes it, when there is one. */
  fix?: string;
}

/** Where the checks look; tests point it at a fake host tree. */
export interface Host {
  read(path: string): string | undefined;
  stat(path: string): Deno.FileInfo | undefined;
  which(cmd: string): string | undefined;
  uid: number;
  user: string;
  env(name: string): string | undefined;
  kernel: string;
  /** Tries to create a user namespace; undefined when it worked, else why not. */
  tryUserNamespace(): Promise<string | undefined>;
  /** Whether the current user may open a device read-write. */
  canOpen(path: string): boolean;
}

const ok = (name: string, detail: string): Check => ({
  name,
  status: "ok",
  detail,
});

function helperCheck(host: Host, tool: string): Check {
  const path = host.which(tool);
  if (!path) {
    return {
      name: tool,
      status: "fail",
      detail: "not found",
      fix: "sudo apt-get install uidmap",
    };
  }
  const st = host.stat(path);
  const setuid = st?.mode !== undefined && st.mode !== null &&
    (st.mode & 0o4000) !== 0 && st.uid === 0;
  if (!setuid) {
    return {
      name: tool,
      status: "fail",
      detail: `${path} is not setuid root`,
      fix: `sudo chmod u+s ${path}`,
    };
  }
  return ok(tool, path);
}

function rangeCheck(host: Host, file: string, flag: string): Check {
  const text = host.read(file) ?? "";
  const rs = subRanges(text, host.user, host.uid);
  if (rs.length === 0) {
    return {
      name: file,
      status: "fail",
      detail: `no range for ${host.user}`,
      fix: `sudo usermod ${flag} 100000-165535 ${host.user}`,
    };
  }
  return ok(
    file,
    `${host.user}: ${rs.map((r) => `${r.start}+${r.count}`).join(", ")}`,
  );
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const [a, b] = release.split(".").map((n) => parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

function deviceCheck(host: Host, dev: string, pkg: string): Check {
  if (!host.stat(dev)) {
    return {
      name: dev,
      status: "fail",
      detail: "missing",
      fix: `sudo modprobe ${pkg}`,
    };
  }
  if (!host.canOpen(dev)) {
    return {
      name: dev,
      status: "fail",
      detail: "not usable by this user",
      fix: `sudo chmod 0666 ${dev}`,
    };
  }
  return ok(dev, "usable");
}

/**
 * Rootless limits, stats and pause need a cgroup v2 subtree delegated by
 * systemd (user@UID.service) with ptd inside it; the same check refuses a
 * limit flag (src/cgroup/host.ts), so both say the same reason and fix.
 */
function cgroupCheck(host: Host): Check {
  const d = delegation(host);
  if (host.uid === 0 && host.stat("/sys/fs/cgroup/cgroup.controllers")) {
    return ok("cgroups", "v2");
  }
  if (!isDelegated(d)) return noLimits(d, host.user);
  const missing = ["cpu", "memory", "pids"].filter((c) =>
    !d.controllers.includes(c)
  );
  if (missing.length > 0) {
    return {
      name: "cgroups",
      status: "warn",
      detail: `v2, delegated without ${missing.join(", ")}`,
      fix:
        "sudo systemctl edit user@.service  # [Service] Delegate=cpu memory pids",
    };
  }
  return ok("cgroups", `v2, delegated: ${d.controllers.join(" ")}`);
}

function noLimits(d: NoDelegation, user: string): Check {
  return {
    name: "cgroups",
    status: "warn",
    detail: `${d.reason}: resource limits, stats and pause unavailable`,
    fix: d.fix.replace("$USER", user),
  };
}

/** A lingering user's manager (and its units) starts at boot, not at login. */
function lingerCheck(host: Host): Check {
  if (host.stat(`/var/lib/systemd/linger/${host.user}`)) {
    return ok("lingering", `${host.user}'s units start at boot`);
  }
  return {
    name: "lingering",
    status: "warn",
    detail:
      "off: your systemd units (ptd generate systemd) start only when you log in",
    fix: `sudo loginctl enable-linger ${host.user}`,
  };
}

/** Runs every check for the host. */
export async function runChecks(host: Host): Promise<Check[]> {
  const checks: Check[] = [];
  const rootless = host.uid !== 0;
  if (rootless) {
    checks.push(helperCheck(host, "newuidmap"), helperCheck(host, "newgidmap"));
    checks.push(rangeCheck(host, "/etc/subuid", "--add-subuids"));
    checks.push(rangeCheck(host, "/etc/subgid", "--add-subgids"));
    const why = await host.tryUserNamespace();
    if (why === undefined) checks.push(ok("user namespaces", "allowed"));
    else {
      const apparmor =
        host.read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
          ?.trim() === "1";
      checks.push({
        name: "user namespaces",
        status: "fail",
        detail: apparmor ? `blocked by AppArmor (${why})` : why,
        fix: apparmor
          ? "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
          : "sudo sysctl -w user.max_user_namespaces=28633",
      });
    }
  }
  const overlay = (host.read("/proc/filesystems") ?? "").includes("overlay");
  const nativeOk = overlay && (!rootless || kernelAtLeast(host.kernel, 5, 11));
  checks.push(
    nativeOk
      ? ok(
        "overlay",
        rootless ? "native in user namespaces (kernel >= 5.11)" : "native",
      )
      : {
        name: "overlay",
        status: "warn",
        detail: "no native overlay here: fuse-overlayfs is used",
        fix: "sudo modprobe overlay",
      },
  );
  const fuse = host.which("fuse-overlayfs");
  checks.push(
    fuse ? ok("fuse-overlayfs", fuse) : {
      name: "fuse-overlayfs",
      status: rootless ? "fail" : "warn",
      detail: "not found (needed for --rootfs over a tree with submounts)",
      fix: "sudo apt-get install fuse-overlayfs",
    },
  );
  if (rootless) checks.push(deviceCheck(host, "/dev/fuse", "fuse"));
  const net = host.which("slirp4netns") ?? host.which("pasta");
  checks.push(
    net ? ok("network helper", net) : {
      name: "network helper",
      status: "warn",
      detail: "neither slirp4netns nor pasta found: containers get no network",
      fix: "sudo apt-get install slirp4netns",
    },
  );
  if (rootless) checks.push(deviceCheck(host, "/dev/net/tun", "tun"));
  checks.push(cgroupCheck(host));
  if (rootless) checks.push(lingerCheck(host));
  if (rootless) {
    const dir = host.env("XDG_RUNTIME_DIR");
    const st = dir ? host.stat(dir) : undefined;
    checks.push(
      st && st.uid === host.uid ? ok("XDG_RUNTIME_DIR", dir!) : {
        name: "XDG_RUNTIME_DIR",
        status: "warn",
        detail: dir
          ? `${dir} is not yours`
          : `not set: runtime state goes to /tmp/ptd-run-${host.uid}`,
        fix: `sudo loginctl enable-linger ${host.user}`,
      },
    );
  }
  return checks;
}

/** The real host. */
export function realHost(): Host {
  const uid = Deno.uid() ?? 0;
  return {
    read: (p) => {
      try {
        return Deno.readTextFileSync(p);
      } catch {
        return undefined;
      }
    },
    stat: (p) => {
      try {
        return Deno.statSync(p);
      } catch {
        return undefined;
      }
    },
    which,
    uid,
    user: userName(uid) ?? Deno.env.get("USER") ?? String(uid),
    env: (n) => Deno.env.get(n),
    kernel: Deno.osRelease(),
    canOpen: (p) => {
      try {
        Deno.openSync(p, { read: true, write: true }).close();
        return true;
      } catch {
        return false;
      }
    },
    async tryUserNamespace() {
      try {
        const child = await cloneExec({
          flags: CLONE_NEWUSER,
          path: "/bin/true",
          argv: ["true"],
          env: [],
        });
        child.release();
        const code = exitCode(await waitStatus(child.pid));
        return code === 0
          ? undefined
          : `a child in a new user namespace exited ${code}`;
      } catch (e) {
        return (e as Error).message;
      }
    },
  };
}
