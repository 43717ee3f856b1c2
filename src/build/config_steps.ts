/**
 * The instructions that only change an image's config (ENV, LABEL,
 * WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK,
 * SHELL, ONBUILD), as Docker applies them: values expanded from the
 * build's variables, shell forms wrapped in the SHELL in effect. Used by
 * every build step and by `commit --change`.
 */
import type { ContainerDefaults } from "../image/oci.ts";
import type { HealthConfig } from "../storage/root_source.ts";
import {
  atLine,
  CONFIG_KEYWORDS,
  type Instruction,
  lineError,
} from "./containerfile.ts";
import {
  execForm,
  expandWord,
  expandWords,
  keyValues,
  type Vars,
} from "./words.ts";

/** The default SHELL. */
export const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds. */
function duration(text: string, what: string): number {
  const units: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) {
      throw new Error(`invalid duration for ${what}: ${JSON.stringify(text)}`);
    }
    total += Number(m[1]) * units[m[2]];
    i = re.lastIndex;
  }
  if (text === "") throw new Error(`invalid duration for ${what}: ""`);
  return total;
}

/** The command of a CMD/ENTRYPOINT/RUN: exec form, or `shell` + the text. */
export function commandOf(args: string, shell: string[]): string[] {
  return execForm(args) ?? [...shell, args];
}

function healthcheck(inst: Instruction): HealthConfig {
  const words = inst.args.trim().split(/\s+/);
  const kind = words[0]?.toUpperCase();
  if (kind === "NONE") return { Test: ["NONE"] };
  if (kind !== "CMD") throw new Error("HEALTHCHECK takes NONE or CMD ...");
  const rest = inst.args.trim().slice(3).trim();
  const exec = execForm(rest);
  const h: HealthConfig = {
    Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", rest],
  };
  for (const f of inst.flags) {
    if (f.name === "retries") {
      const n = Number(f.value);
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`--retries must be at least 1`);
      }
      h.Retries = n;
    } else {
      const key = ({
        interval: "Interval",
        timeout: "Timeout",
        "start-period": "StartPeriod",
      } as const)[
        f.name as "interval"
      ];
      if (key) h[key] = duration(f.value, `--${f.name}`);
    }
  }
  return h;
}

/** `path` joined to the working directory `base` unless absolute, cleaned. */
export function resolvePath(base: string | undefined, path: string): string {
  const joined = path.startsWith("/") ? path : `${base || "/"}/${path}`;
  const out: string[] = [];
  for (const c of joined.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return `/${out.join("/")}`;
}

/**
 * Applies the config instruction `inst` to `c` (changed in place), values
 * expanded from `vars` (ENV also updates `vars`). `file` names the
 * Containerfile in errors. Returns false when `inst` is no config
 * instruction.
 */
export function applyConfigStep(
  c: ContainerDefaults,
  inst: Instruction,
  vars: Vars,
  escape: string,
  file: string,
): boolean {
  if (!CONFIG_KEYWORDS.has(inst.keyword)) return false;
  const args = inst.args;
  const need = () => {
    if (!args.trim()) {
      throw lineError(
        file,
        inst.line,
        `${inst.keyword} requires at least one argument`,
      );
    }
  };
  try {
    switch (inst.keyword) {
      case "ENV":
        need();
        for (const [k, v] of keyValues(args, vars, escape)) {
          c.Env = [
            ...(c.Env ?? []).filter((e) => !e.startsWith(`${k}=`)),
            `${k}=${v}`,
          ];
          vars.set(k, v!);
        }
        break;
      case "LABEL":
        need();
        c.Labels = {
          ...c.Labels,
          ...Object.fromEntries(
            keyValues(args, vars, escape).map(([k, v]) => [k, v ?? ""]),
          ),
        };
        break;
      case "WORKDIR":
        need();
        c.WorkingDir = resolvePath(
          c.WorkingDir,
          expandWord(args.trim(), vars, escape),
        );
        break;
      case "USER":
        need();
        c.User = expandWord(args.trim(), vars, escape);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = args.trim()
          ? commandOf(args, c.Shell ?? DEFAULT_SHELL)
          : null;
        break;
      case "CMD":
        c.Cmd = args.trim() ? commandOf(args, c.Shell ?? DEFAULT_SHELL) : null;
        break;
      case "EXPOSE":
        need();
        for (const p of expandWords(args, vars, escape)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) {
            throw new Error(`invalid containerPort: ${p}`);
          }
          const key = p.includes("/") ? p.toLowerCase() : `${p}/tcp`;
          c.ExposedPorts = { ...c.ExposedPorts, [key]: {} };
        }
        break;
      case "VOLUME": {
        need();
        const paths = execForm(args) ?? expandWords(args, vars, escape);
        for (const p of paths) {
          if (!p) {
            throw new Error("VOLUME specified can not be an empty string");
          }
          c.Volumes = { ...c.Volumes, [p]: {} };
        }
        break;
      }
      case "STOPSIGNAL":
        need();
        c.StopSignal = expandWord(args.trim(), vars, escape);
        break;
      case "HEALTHCHECK":
        need();
        c.Healthcheck = healthcheck(inst);
        break;
      case "SHELL": {
        const shell = execForm(args);
        if (!shell || shell.length === 0) {
          throw new Error("SHELL requires the arguments to be in JSON form");
        }
        c.Shell = shell;
        break;
      }
      case "ONBUILD": {
        need();
        const trigger = args.trim().split(/\s+/)[0].toUpperCase();
        if (["ONBUILD", "FROM", "MAINTAINER"].includes(trigger)) {
          throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
        }
        c.OnBuild = [...(c.OnBuild ?? []), args.trim()];
        break;
      }
    }
  } catch (e) {
    throw atLine(e, file, inst.line);
  }
  return true;
}
