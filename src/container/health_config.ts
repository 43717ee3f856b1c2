/**
 * A container's health check as `run`/`create` set it: Podman's
 * --health-* flags read with its defaults and errors, or the image's
 * HEALTHCHECK when no --health-cmd is given, and what the monitor keeps
 * of its results. Loaded by create and by whatever shows the results;
 * running checks is health.ts's.
 */
import { invalid } from "../runtime/errors.ts";
import type { HealthConfig } from "../storage/root_source.ts";

export type { HealthConfig };

/** --health-on-failure: what happens to a container that turns unhealthy. */
export type HealthAction = "none" | "kill" | "restart" | "stop";

/** One check's result, as Podman's inspect shows it (State.Health.Log). */
export interface HealthLog {
  Start: string;
  End: string;
  /** 0 passed, 1 failed, -1 timed out. */
  ExitCode: number;
  Output: string;
}

/** The results the monitor keeps in the container's state. */
export interface HealthState {
  /** starting, healthy or unhealthy. */
  Status: string;
  FailingStreak: number;
  /** The last results, oldest first. */
  Log: HealthLog[];
}

/** The --health-* flags as given. */
export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthTimeout?: string;
  /** false with --no-healthcheck. */
  healthcheck?: boolean;
  healthOnFailure?: string;
}

const SECOND = 1e9;
/** Podman's defaults: every 30 s, 30 s to answer, 3 failures in a row. */
const DEFAULT_INTERVAL = 30 * SECOND;
const DEFAULT_TIMEOUT = 30 * SECOND;
const DEFAULT_RETRIES = 3;

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds; undefined when it is not one. */
export function goDuration(text: string): number | undefined {
  const m = /^([+-]?)(.*)$/.exec(text)!;
  if (m[2] === "0") return 0;
  const parts = [...m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== m[2]) {
    return undefined;
  }
  const ns = parts.reduce((t, p) => t + Number(p[1]) * UNITS[p[2]], 0);
  return m[1] === "-" ? -ns : ns;
}

/** Go's Duration.String(): "1m30s", "500ms", "0s". */
export function goDurationString(ns: number): string {
  if (ns === 0) return "0s";
  if (Math.abs(ns) < SECOND) {
    for (const [u, n] of [["ms", 1e6], ["µs", 1e3], ["ns", 1]] as const) {
      if (Math.abs(ns) >= n) return `${trimZeros(ns / n)}${u}`;
    }
  }
  const sign = ns < 0 ? "-" : "";
  let s = Math.abs(ns) / SECOND;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const min = Math.floor(s / 60);
  s -= min * 60;
  const sec = `${trimZeros(Number(s.toFixed(9)))}s`;
  if (h > 0) return `${sign}${h}h${min}m${sec}`;
  return min > 0 ? `${sign}${min}m${sec}` : `${sign}${sec}`;
}

const trimZeros = (n: number) => String(Number(n.toFixed(9)));

/** A --health-* duration, refused in Podman's words. */
function duration(value: string | undefined, name: string, dflt: number) {
  if (value === undefined) return dflt;
  if (value === "disable") return 0;
  const ns = goDuration(value);
  if (ns === undefined) {
    throw invalid(
      `invalid healthcheck-${name}: time: invalid duration ${
        JSON.stringify(value)
      }`,
    );
  }
  return ns;
}

/** --health-cmd: a JSON array (CMD form) or a shell line (CMD-SHELL). */
function healthTest(cmd: string): string[] {
  if (cmd === "NONE") return ["NONE"];
  if (cmd.startsWith("[")) {
    let list: unknown;
    try {
      list = JSON.parse(cmd);
    } catch { /* a shell line that starts with "[" */ }
    if (Array.isArray(list) && list.every((x) => typeof x === "string")) {
      if (list.length === 0) {
        throw invalid("must define a healthcheck command for all healthchecks");
      }
      return ["CMD", "CMD-SHELL", "NONE"].includes(list[0])
        ? list
        : ["CMD", ...list];
    }
  }
  return ["CMD-SHELL", cmd];
}

/** Leaves zero (default) times out, as Podman's inspect does. */
function compact(h: Required<HealthConfig>): HealthConfig {
  const out: HealthConfig = { Test: h.Test };
  for (const k of ["StartPeriod", "Interval", "Timeout", "Retries"] as const) {
    if (h[k]) out[k] = h[k];
  }
  return out;
}

/**
 * The check the flags ask for: undefined when they leave it to the image
 * (no --health-cmd: the other --health-* flags alone change nothing, as in
 * Podman 4.3), ["NONE"] for --no-healthcheck.
 */
export function parseHealthFlags(f: HealthFlags): {
  healthcheck?: HealthConfig;
  healthOnFailure?: HealthAction;
} {
  const action = f.healthOnFailure ?? "none";
  if (!["none", "kill", "restart", "stop"].includes(action)) {
    throw invalid(
      `invalid on-failure action "${action}" for health check: supported actions are none,kill,restart,stop`,
    );
  }
  const healthOnFailure = action === "none"
    ? undefined
    : action as HealthAction;
  if (f.healthcheck === false) {
    if (f.healthCmd !== undefined) {
      throw invalid("cannot specify both --no-healthcheck and --health-cmd");
    }
    return { healthcheck: { Test: ["NONE"] }, healthOnFailure };
  }
  if (!f.healthCmd) return { healthOnFailure };
  let retries = DEFAULT_RETRIES;
  if (f.healthRetries !== undefined) {
    if (!/^\d+$/.test(f.healthRetries)) {
      throw invalid(
        `invalid argument "${f.healthRetries}" for "--health-retries" flag: strconv.ParseUint: parsing "${f.healthRetries}": invalid syntax`,
      );
    }
    retries = Number(f.healthRetries);
  }
  if (retries < 1) throw invalid("healthcheck-retries must be greater than 0");
  const timeout = duration(f.healthTimeout, "timeout", DEFAULT_TIMEOUT);
  if (timeout < SECOND) {
    throw invalid("healthcheck-timeout must be at least 1 second");
  }
  const startPeriod = duration(f.healthStartPeriod, "start-period", 0);
  if (startPeriod < 0) {
    throw invalid("healthcheck-start-period must be 0 seconds or greater");
  }
  return {
    healthcheck: compact({
      Test: healthTest(f.healthCmd),
      StartPeriod: startPeriod,
      Interval: duration(f.healthInterval, "interval", DEFAULT_INTERVAL),
      Timeout: timeout,
      Retries: retries,
    }),
    healthOnFailure,
  };
}

/**
 * The check a new container gets: the flags' own, else the image's with
 * Podman's default interval and timeout where it has none.
 */
export function chooseHealthcheck(
  own: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (own) return own;
  if (!image?.Test?.length) return undefined;
  return compact({
    Test: image.Test,
    StartPeriod: image.StartPeriod ?? 0,
    Interval: image.Interval || DEFAULT_INTERVAL,
    Timeout: image.Timeout || DEFAULT_TIMEOUT,
    Retries: image.Retries ?? 0,
  });
}

/** Whether `h` is a check that can run (not absent, not NONE). */
export function hasHealthcheck(h: HealthConfig | undefined): boolean {
  return !!h && h.Test.length > 0 && h.Test[0] !== "NONE";
}

/** The command line a check runs in the container. */
export function healthCommand(h: HealthConfig): string[] {
  const [kind, ...rest] = h.Test;
  if (kind === "CMD-SHELL") return ["/bin/sh", "-c", rest.join(" ")];
  if (kind === "CMD") return rest;
  return h.Test;
}

/** The state of a container whose check has not answered yet. */
export function startingHealth(old?: HealthState): HealthState {
  return { Status: "starting", FailingStreak: 0, Log: old?.Log ?? [] };
}
