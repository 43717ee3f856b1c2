/**
 * Which containers.conf files Podman reads, in order. Apart from the
 * parser, so that finding them costs no TOML module (conf_cache.ts).
 */

/** The .conf files of a drop-in directory, in name order. */
function dropIns(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".conf"))
      .map((e) => `${dir}/${e.name}`).sort();
  } catch {
    return [];
  }
}

/** The files Podman reads, in order, for `env` (Deno.env.get by default). */
export function containersConfFiles(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  rootless = (Deno.uid() ?? 0) !== 0,
): string[] {
  const forced = env("CONTAINERS_CONF");
  if (forced) return [forced];
  const home = env("XDG_CONFIG_HOME") || `${env("HOME") ?? "/"}/.config`;
  const mains = [
    "/usr/share/containers/containers.conf",
    "/etc/containers/containers.conf",
    ...(rootless ? [`${home}/containers/containers.conf`] : []),
  ];
  return mains.flatMap((f) => [f, ...dropIns(`${f}.d`)]);
}
