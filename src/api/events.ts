/**
 * `GET /events`: the events file read through the engine's `events`,
 * each event as Docker's JSON message (Type, Action, Actor, time and
 * timeNano, and the older status/id/from), one a line, streamed as they
 * come. Docker's names for the acts differ from Podman's (die, destroy,
 * delete, exec_start, ...): messages and `event` filters are translated.
 */
import { readEngineEvents } from "../engine/events.ts";
import { parseTime } from "../engine/filters.ts";
import type { EventRecord } from "../events/record.ts";
import type { HttpRequest } from "./http.ts";
import { filterArgs } from "./reply.ts";
import type { Route } from "./router.ts";

/** Podman's act (stored), Docker's name for it, and the type it holds for. */
const NAMES: [string, string, string?][] = [
  ["died", "die"],
  ["remove", "destroy", "container"],
  ["remove", "delete", "image"],
  ["exec", "exec_start"],
  ["exec_died", "exec_die"],
  ["loadfromarchive", "load"],
];

/** Docker's action for a stored event. */
function dockerAction(e: EventRecord): string {
  if (e.Status === "health_status") {
    return `health_status: ${e.health_status ?? ""}`;
  }
  const n = NAMES.find(([p, , type]) =>
    p === e.Status && (type === undefined || type === e.Type)
  );
  return n ? n[1] : e.Status;
}

/** A Docker `event=` filter value as the stored name. */
const storedAction = (docker: string) =>
  NAMES.find(([, d]) => d === docker)?.[0] ?? docker;

/**
 * Docker's `filters` as the engine's, event names stored ones; every ptd
 * event is of the local scope, so that filter selects them all.
 */
function eventFilters(req: HttpRequest): string[] {
  return filterArgs(req)
    .filter((f) => f !== "scope=local")
    .map((f) =>
      f.startsWith("event=") ? `event=${storedAction(f.slice(6))}` : f
    );
}

/** An event's time as Unix nanoseconds (a bigint: past 2^53). */
function timeNano(e: EventRecord): bigint {
  const m = /\.(\d+)Z$/.exec(e.Time);
  const whole = Date.parse(e.Time.replace(/\.\d+Z$/, "Z"));
  return BigInt(whole) * 1_000_000n +
    BigInt((m?.[1] ?? "").padEnd(9, "0").slice(0, 9));
}

/** One event as Docker's events.Message, in JSON. */
export function dockerEventJson(e: EventRecord): string {
  const action = dockerAction(e);
  const attributes: Record<string, string> = { ...e.Attributes };
  if (e.Type === "container") attributes.image = e.Image ?? "";
  if (e.Name) attributes.name = e.Name;
  if (e.Status === "died") {
    attributes.exitCode = String(e.ContainerExitCode ?? 0);
  }
  const id = e.ID ?? e.Name ?? "";
  const nano = timeNano(e);
  const msg = {
    status: action,
    id,
    ...(e.Type === "container" ? { from: e.Image ?? "" } : {}),
    Type: e.Type,
    Action: action,
    Actor: { ID: id, Attributes: attributes },
    scope: "local",
    time: Number(nano / 1_000_000_000n),
    timeNano: 0,
  };
  // JSON.stringify has no bigint: the exact number is put in as text.
  return JSON.stringify(msg).replace('"timeNano":0', `"timeNano":${nano}`);
}

const enc = new TextEncoder();

/** The events routes. */
export const eventRoutes: Route[] = [
  ["GET", "/events", async ({ e, req }) => {
    const filters = eventFilters(req);
    const since = req.query.get("since") || undefined;
    // Docker's client sends `--until 0s` as now in whole seconds: the
    // events of that second are kept, not cut at its start.
    const raw = req.query.get("until") || undefined;
    const until = raw && /^\d+$/.test(raw) ? `${raw}.999999999` : raw;
    // An until already past: the events up to it, then the end.
    const stream = until === undefined || parseTime(until) > Date.now();
    const events = await readEngineEvents(e, {
      filters,
      since,
      until,
      stream,
      signal: req.signal,
    });
    return {
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: (async function* () {
        for await (const ev of events) {
          yield enc.encode(dockerEventJson(ev) + "\n");
        }
      })(),
    };
  }],
];
