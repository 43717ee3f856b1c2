/**
 * Emitting events: whichever process does an act (a CLI command, a
 * container's monitor, a foreground run) appends one JSON line to the
 * events file in the runtime directory, Podman's events.log. One write()
 * of one line on a file opened O_APPEND: concurrent writers never
 * interleave, and nothing is held open between events. Past the size
 * limit the file is renamed to events.log.1 (the one older generation
 * kept) under a lock; a writer still holding the old file adds its line
 * there, where the reader finds it too. Cheap on the hot path: no module
 * of weight, the backend resolved once per process tree (the processes a
 * command starts, its monitors and checks, find it in their environment).
 */
import { lazy } from "../runtime/lazy.ts";
import { ensureDir, storePaths } from "../storage/paths.ts";
import {
  BACKEND_ENV,
  eventJson,
  eventRecord,
  type EventSpec,
} from "./record.ts";

/** Where the events go: ptd writes files or nothing. */
export type EventsBackend = "file" | "none" | "journald";

/** Podman's default events_logfile_max_size: 1 MiB. */
const DEFAULT_MAX_SIZE = 1024 * 1024;

/** Carries the resolved events_logfile_max_size beside BACKEND_ENV. */
const MAX_SIZE_ENV = "PTD_EVENTS_MAX_SIZE";

/** The events file of the store whose runtime directory is `runtime`. */
export function eventsFile(runtime = storePaths().runtime): string {
  return `${runtime}/events/events.log`;
}

/** How this process writes events, from --events-backend or containers.conf. */
export interface EventsSetup {
  backend: EventsBackend;
  /** Bytes past which the file is rotated. */
  maxSize: number;
}

let setup: Promise<EventsSetup> | undefined;

/**
 * The backend in force: --events-backend, else containers.conf's
 * events_logger and events_logfile_max_size, else a file. Once resolved,
 * it is passed on in the environment, so that a monitor writes where its
 * CLI was told, and reads no configuration for it.
 */
export function eventsSetup(): Promise<EventsSetup> {
  setup ??= (async () => {
    const forced = Deno.env.get(BACKEND_ENV) as EventsBackend | undefined;
    const size = Number(Deno.env.get(MAX_SIZE_ENV));
    if (forced && size > 0) return { backend: forced, maxSize: size };
    const { cachedContainersConf } = await lazy<
      typeof import("../config/conf_cache.ts")
    >("src/config/conf_cache.ts");
    const conf = await cachedContainersConf(
      `${storePaths().runtime}/containers-conf.json`,
    ).catch(() => undefined);
    const resolved = {
      backend: forced || (conf?.eventsLogger as EventsBackend) || "file",
      maxSize: conf?.eventsMaxSize ?? DEFAULT_MAX_SIZE,
    };
    Deno.env.set(BACKEND_ENV, resolved.backend);
    Deno.env.set(MAX_SIZE_ENV, String(resolved.maxSize));
    return resolved;
  })();
  return setup;
}

/**
 * Records that `spec` happened, now. Never fails the act itself: an event
 * that cannot be written is lost, as Podman only logs such an error.
 */
export async function emitEvent(spec: EventSpec): Promise<void> {
  const { backend, maxSize } = await eventsSetup();
  if (backend !== "file") return;
  const line = new TextEncoder().encode(
    eventJson(eventRecord(spec)) + "\n",
  );
  try {
    const path = eventsFile();
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      ensureDir(path.slice(0, path.lastIndexOf("/")));
      f = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    }
    try {
      f.writeSync(line);
      if (f.statSync().size > maxSize) rotate(path, maxSize);
    } finally {
      f.close();
    }
  } catch { /* no runtime dir to write in: the event is lost */ }
}

/** The fields of a container an event about it names. */
export interface ContainerRef {
  id: string;
  name: string;
  image: string;
  rootfs: boolean;
  labels: Record<string, string>;
}

/** Records `action` on container `c`, as Podman words container events. */
export function emitContainerEvent(
  c: ContainerRef,
  action: string,
  extra: Pick<EventSpec, "exitCode" | "health"> = {},
): Promise<void> {
  return emitEvent({
    type: "container",
    action,
    id: c.id,
    name: c.name,
    image: c.rootfs ? "" : c.image,
    attributes: { ...c.labels },
    ...extra,
  });
}

/** Moves a full events file aside; one writer does, the others see it done. */
function rotate(path: string, maxSize: number) {
  const lock = Deno.openSync(`${path}.lock`, {
    create: true,
    write: true,
    mode: 0o600,
  });
  try {
    lock.lockSync(true);
    if (Deno.statSync(path).size > maxSize) {
      Deno.renameSync(path, `${path}.1`);
    }
  } finally {
    lock.close();
  }
}
