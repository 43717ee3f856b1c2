/**
 * `--security-opt mask=` and `unmask=` as Podman applies them: the default
 * masked and read-only paths (none when privileged) less those an unmask
 * pattern matches (Go's filepath.Match; "ALL" matches all), plus the masks
 * asked for.
 */

/** Go's filepath.Match for `*`, `?` and literal characters. */
function globMatch(pattern: string, path: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`).test(path);
}

function kept(path: string, unmask: string[]): boolean {
  return !unmask.some((u) => u.toLowerCase() === "all" || globMatch(u, path));
}

/** The masked and read-only paths of a container. */
export function containerMasks(
  defaults: { masked: string[]; readonly: string[] },
  o: { privileged: boolean; mask?: string[]; unmask?: string[] },
): { masked: string[]; readonly: string[] } {
  const unmask = o.unmask ?? [];
  const base = o.privileged ? { masked: [], readonly: [] } : defaults;
  return {
    masked: [
      ...base.masked.filter((p) => kept(p, unmask)),
      ...(o.mask ?? []),
    ],
    readonly: base.readonly.filter((p) => kept(p, unmask)),
  };
}
