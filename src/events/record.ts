/**
 * One event as Podman's file backend writes it: a JSON line of its
 * events.Event, field for field in Podman's order, so `events --format
 * json` prints the stored line as it is and both engines read each
 * other's files. A leaf module: every process that emits loads it.
 */

/**
 * The environment variable that carries --events-backend to this process
 * and the ones it starts.
 */
export const BACKEND_ENV = "PTD_EVENTS_BACKEND";

/** The kinds of object an event is about (Podman's Type). */
export type EventType = "container" | "image" | "volume" | "network" | "system";

/** A stored event: Podman's events.Event as its JSON has it. */
export interface EventRecord {
  /** died and exec_died: the exit code, left out when it is 0. */
  ContainerExitCode?: number;
  ID?: string;
  /** Container events: the container's image. */
  Image?: string;
  Name?: string;
  Network?: string;
  /** What happened: create, start, died, pull... */
  Status: string;
  /** RFC 3339 with nanoseconds, UTC. */
  Time: string;
  Type: EventType;
  /** health_status events: healthy, unhealthy or starting. */
  health_status?: string;
  /** Container events: its labels ({} when none); others null. */
  Attributes: Record<string, string> | null;
}

/** What an emitter says; the time and Podman's field order come from here. */
export interface EventSpec {
  type: EventType;
  action: string;
  id?: string;
  name?: string;
  image?: string;
  network?: string;
  exitCode?: number;
  health?: string;
  attributes?: Record<string, string> | null;
}

/** Now as RFC 3339 with the sub-millisecond digits the clock has. */
export function eventTime(ms = performance.timeOrigin + performance.now()) {
  const whole = Math.floor(ms);
  const ns = Math.round((ms - whole) * 1e6);
  const iso = new Date(whole).toISOString();
  const frac = `${iso.slice(20, 23)}${String(ns).padStart(6, "0")}`
    .replace(/0+$/, "");
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}

/** The record of `spec`, happening now. */
export function eventRecord(spec: EventSpec, time = eventTime()): EventRecord {
  // Insertion order is JSON order: Podman's struct order, empty ones left out.
  const r: Partial<EventRecord> = {};
  if (spec.exitCode) r.ContainerExitCode = spec.exitCode;
  if (spec.id) r.ID = spec.id;
  if (spec.image) r.Image = spec.image;
  if (spec.name) r.Name = spec.name;
  if (spec.network) r.Network = spec.network;
  r.Status = spec.action;
  r.Time = time;
  r.Type = spec.type;
  if (spec.health) r.health_status = spec.health;
  r.Attributes = spec.attributes ?? null;
  return r as EventRecord;
}

/** Go's json.Marshal of an event: what the file holds, one line. */
export function eventJson(e: EventRecord): string {
  const attrs = e.Attributes &&
    Object.fromEntries(Object.entries(e.Attributes).sort(byKey));
  return JSON.stringify({ ...e, Attributes: attrs }).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Go's order of map keys (bytes). */
export const byKey = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
