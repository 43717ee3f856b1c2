/**
 * `ptd events`: Podman's output and options over the engine's events
 * (src/engine/events.ts): a human line each by default, `--format json`
 * the stored JSON line, a template over Podman's events.Event.
 */
import { userEngine } from "../engine/engine.ts";
import { readEngineEvents } from "../engine/events.ts";
import { eventText, eventView } from "../events/present.ts";
import { eventJson } from "../events/record.ts";
import { isJson, renderReport } from "./format.ts";
import { boolArg, repeatable } from "./options.ts";
import type { CommandSpec } from "./spec.ts";

interface EventsFlags {
  filter: string[];
  format?: string;
  /** --no-trunc's value: commander keys a --no- flag without it. */
  trunc: boolean;
  since?: string;
  until?: string;
  stream: boolean;
}

/** Writes a line at once: a stream's reader sees each event as it comes. */
function writeLine(text: string) {
  const out = new TextEncoder().encode(`${text}\n`);
  for (let i = 0; i < out.length;) i += Deno.stdout.writeSync(out.subarray(i));
}

/** `ptd events`. */
export const eventsSpec: CommandSpec = {
  name: "events",
  description: "Show podman events",
  options: [
    repeatable("-f, --filter <filter>", "filter output"),
    {
      flags: "--format <format>",
      description: "format the output using a Go template or json",
    },
    {
      flags: "--no-trunc [=bool]",
      description: "do not truncate the output",
      parse: boolArg("--no-trunc"),
      default: true,
    },
    { flags: "--since <time>", description: "show all events since timestamp" },
    {
      flags: "--stream [=bool]",
      description: "stream new events; for testing only",
      parse: boolArg("--stream"),
      default: true,
    },
    {
      flags: "--until <time>",
      description: "show all events until timestamp",
    },
  ],
  args: [],
  action: async (f: EventsFlags) => {
    const events = await readEngineEvents(userEngine(), {
      filters: f.filter,
      since: f.since,
      until: f.until,
      stream: f.stream,
    });
    const format = f.format ?? "";
    for await (const e of events) {
      if (format === "") writeLine(eventText(e, !f.trunc));
      else if (isJson(format)) writeLine(eventJson(e));
      else {
        const text = await renderReport(format, [e], {
          name: "events",
          indent: "",
          view: eventView,
        });
        writeLine(text.replace(/\n$/, ""));
      }
    }
  },
};
