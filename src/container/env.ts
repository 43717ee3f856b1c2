/**
 * The container's environment as Podman layers it: its defaults, the
 * image's, the host's with --env-host, then the user's; a later KEY=
 * replaces an earlier one.
 */
import { DEFAULT_PATH } from "../runtime/process.ts";

/** What every container gets unless something later says otherwise. */
export const DEFAULT_ENV = ["TERM=xterm"];

/**
 * Podman's default PATH, under every other default (a configured `env`
 * does not replace it): a default like the others, so --unsetenv PATH and
 * --unsetenv-all leave a container without one, as in Podman.
 */
export const PATH_ENV = [`PATH=${DEFAULT_PATH}`];

/**
 * Podman's mark of a container made from an image (not of a --rootfs
 * one), on top of the defaults (a configured `env` does not replace it):
 * systemd and scripts inside read it.
 */
export const CONTAINER_ENV = ["container=podman"];

/** Env lists merged Docker's way: later KEY= entries replace earlier ones. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const e of list) {
      const i = e.indexOf("=");
      map.set(i < 0 ? e : e.slice(0, i), e);
    }
  }
  return [...map.values()];
}

/**
 * The host's environment, for --env-host, without ptd's own settings
 * (PTD_*: the store, the events backend the CLI hands its children), as
 * Podman keeps its internal variables out.
 */
export function hostEnv(): string[] {
  return Object.entries(Deno.env.toObject())
    .filter(([k]) => !k.startsWith("PTD_"))
    .map(([k, v]) => `${k}=${v}`);
}
