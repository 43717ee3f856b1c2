/**
 * How `events` shows an event, as Podman 4.3 does: its human line and
 * what a --format template sees (events.Event, times as Go prints them).
 */
import { goMap, goStruct, goTimeString } from "../runtime/gomap.ts";
import { byKey, type EventRecord } from "./record.ts";

/**
 * Podman's ToHumanReadable: "TIME TYPE STATUS ID (image=, name=, ...)" for
 * containers, "TIME image STATUS ID NAME", "TIME volume STATUS NAME";
 * ids cut to 12 characters when `truncate`.
 */
export function eventText(e: EventRecord, truncate = false): string {
  const id = truncate ? (e.ID ?? "").slice(0, 12) : e.ID ?? "";
  const head = `${goTimeString(e.Time)} ${e.Type} ${e.Status}`;
  switch (e.Type) {
    case "container": {
      let text = `${head} ${id} (image=${e.Image ?? ""}, name=${e.Name ?? ""}`;
      if (e.health_status) text += `, health_status=${e.health_status}`;
      for (const [k, v] of Object.entries(e.Attributes ?? {}).sort(byKey)) {
        text += `, ${k}=${v}`;
      }
      return `${text})`;
    }
    case "network":
      return `${head} ${id} (container=${id}, name=${e.Network ?? ""})`;
    case "image":
      return `${head} ${id} ${e.Name ?? ""}`;
    case "system":
      return e.Name ? `${head} ${e.Name}` : head;
    default:
      return `${head} ${e.Name ?? ""}`;
  }
}

/** What a --format template sees of an event: Podman's events.Event. */
export function eventView(e: EventRecord): Record<string, unknown> {
  const attrs = goMap(e.Attributes);
  return goStruct({
    ContainerExitCode: e.ContainerExitCode ?? 0,
    ID: e.ID ?? "",
    Image: e.Image ?? "",
    Name: e.Name ?? "",
    Network: e.Network ?? "",
    Status: e.Status,
    Time: goTimeString(e.Time),
    Type: e.Type,
    HealthStatus: e.health_status ?? "",
    Details: goStruct({ Attributes: attrs }, "events.Details"),
    Attributes: attrs,
  }, "*events.Event");
}
