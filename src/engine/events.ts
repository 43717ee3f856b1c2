/**
 * The engine's `events`: the events file read and filtered as Podman's
 * `events` does. Keys of one kind are alternatives, different keys must
 * all match, as for every --filter.
 */
import { eventsFile, eventsSetup } from "../events/emit.ts";
import { type EventRecord } from "../events/record.ts";
import { eventMs, readEvents } from "../events/reader.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import {
  compileFilters,
  FORM_ERROR,
  labelsMatch,
  type Matcher,
  parseFilters,
  parseTime,
} from "./filters.ts";

/** The keys `events --filter` knows (Podman's). */
export const EVENT_FILTER_KEYS = [
  "container",
  "event",
  "image",
  "label",
  "network",
  "pod",
  "since",
  "status",
  "type",
  "until",
  "volume",
] as const;

/** What `events` asks for. */
export interface EventsQuery {
  /** --filter arguments, KEY=VALUE. */
  filters?: readonly string[];
  /** --since and --until: Unix times, RFC 3339 or durations before now. */
  since?: string;
  until?: string;
  /** Wait for new events (Podman's --stream, the default). */
  stream?: boolean;
  /** Ends a stream. */
  signal?: AbortSignal;
}

/** An image reference as given, or with Podman's implied parts. */
const refMatches = (ref: string | undefined, want: string) =>
  ref !== undefined && ref !== "" &&
  [want, `${want}:latest`].some((w) => ref === w || ref.endsWith(`/${w}`));

const MATCHERS: Record<string, Matcher<EventRecord>> = {
  container: (vs) => (e) =>
    e.Type === "container" &&
    vs.some((v) => e.Name === v || (e.ID ?? "").startsWith(v)),
  event: (vs) => (e) => vs.includes(e.Status),
  status: (vs) => (e) => vs.includes(e.Status),
  image: (vs) => (e) =>
    vs.some((v) =>
      e.Type === "image"
        ? (e.ID ?? "").startsWith(v) || refMatches(e.Name, v)
        : refMatches(e.Image, v)
    ),
  label: (vs) => (e) => labelsMatch(vs, e.Attributes ?? {}),
  network: (vs) => (e) => e.Type === "network" && vs.includes(e.Network ?? ""),
  // ptd has no pods: no event is about one.
  pod: () => () => false,
  type: (vs) => (e) => vs.includes(e.Type),
  volume: (vs) => (e) => e.Type === "volume" && vs.includes(e.Name ?? ""),
  since: (vs) => {
    const t = Math.min(...vs.map((v) => parseTime(v)));
    return (e) => eventMs(e) >= t;
  },
  until: (vs) => {
    const t = Math.max(...vs.map((v) => parseTime(v)));
    return (e) => eventMs(e) <= t;
  },
};

/**
 * The events `q` selects, oldest first as they were written; a stream
 * goes on with each new one until `q.signal` or --until ends it.
 */
export async function readEngineEvents(
  e: Engine,
  q: EventsQuery = {},
): Promise<AsyncIterable<EventRecord>> {
  const keep = compileFilters(
    parseFilters(q.filters ?? [], {
      keys: EVENT_FILTER_KEYS,
      unknown: (key) => `${key} is an invalid filter`,
      malformed: FORM_ERROR,
    }),
    MATCHERS,
  );
  const since = q.since ? parseTime(q.since) : undefined;
  const until = q.until ? parseTime(q.until) : undefined;
  const { backend } = await eventsSetup();
  if (backend === "none") {
    throw invalid('cannot read events with the "none" backend');
  }
  if (backend === "journald") {
    throw invalid(
      'events_logger "journald": ptd keeps events in a file only (events_logger = "file" in containers.conf, or --events-backend file)',
    );
  }
  const events = readEvents(eventsFile(e.paths.runtime), {
    since,
    until,
    follow: q.stream ?? true,
    signal: q.signal,
  });
  return (async function* () {
    for await (const ev of events) if (keep(ev)) yield ev;
  })();
}
