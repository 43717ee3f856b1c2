/** Finding the host programs ptd relies on (helpers Podman uses too). */

/** The path of `cmd` on PATH, like `command -v`, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return `${dir}/${cmd}`;
    } catch { /* next */ }
  }
  return undefined;
}

/** The path of a helper program, or a one-line error naming its package. */
export function requireTool(cmd: string, debianPackage: string): string {
  const path = which(cmd);
  if (!path) {
    throw new Error(
      `${cmd} not found: install the Debian package ${debianPackage}`,
    );
  }
  return path;
}
