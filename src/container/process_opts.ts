/**
 * Settings of the container's command that Podman checks at create:
 * --umask, --personality and --env-merge.
 */
import { invalid } from "../runtime/errors.ts";
import { DEFAULT_PATH, PERSONALITIES } from "../runtime/process.ts";

/** --umask: one to four octal digits, as Podman checks them. */
export function parseUmask(value: string): string {
  if (!/^[0-7]{1,4}$/.test(value)) {
    throw invalid(
      `running container create option: invalid umask string ${value}: invalid argument`,
    );
  }
  return value;
}

/** --personality: LINUX or LINUX32 (any case), stored in capitals. */
export function parsePersonality(value: string): string {
  const domain = value.toUpperCase();
  if (!(domain in PERSONALITIES)) {
    throw invalid(
      `invalid personality ${value}: want one of ${
        Object.keys(PERSONALITIES).join(", ")
      }`,
    );
  }
  return domain;
}

/**
 * Expands $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word} as a Dockerfile
 * word is (what Podman's --env-merge runs its values through).
 */
export function expandWord(word: string, env: Map<string, string>): string {
  return word.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, braced?: string, op?: string, alt?: string, bare?: string) => {
      const value = env.get((braced ?? bare)!);
      if (op === "-") return value ? value : alt!;
      if (op === "+") return value ? alt! : "";
      return value ?? "";
    },
  );
}

/**
 * --env-merge: each KEY=VALUE expanded over `base` (the defaults and the
 * image's variables, PATH among them), as KEY=VALUE lines that override
 * them; a KEY that `base` lacks is skipped, as Podman skips it.
 */
export function envMerge(base: string[], exprs: string[]): string[] {
  const env = new Map<string, string>([["PATH", DEFAULT_PATH]]);
  for (const e of base) {
    const i = e.indexOf("=");
    if (i > 0) env.set(e.slice(0, i), e.slice(i + 1));
  }
  const out: string[] = [];
  for (const expr of exprs) {
    const line = expandWord(expr, env);
    const i = line.indexOf("=");
    if (i <= 0 || !env.has(line.slice(0, i))) continue;
    env.set(line.slice(0, i), line.slice(i + 1));
    out.push(line);
  }
  return out;
}
