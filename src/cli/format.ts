/**
 * Output the Podman way: tables through Go's tabwriter with Podman's
 * settings, `--format json` arrays, and --format Go templates evaluated as
 * Podman's report package does (the template module loads only when a
 * format is a template: `ps` is a hot command).
 */
import { lazy } from "../runtime/lazy.ts";
import { invalid } from "../runtime/errors.ts";
import { goMap } from "../runtime/gomap.ts";

/**
 * Go's text/tabwriter with Podman's settings (minwidth 12, padding 2,
 * spaces): cells end at a tab, a line's last cell is not aligned, and a
 * column's width holds over a block of consecutive lines that have it.
 */
export function tabwrite(text: string): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const widths: number[] = [];
  let out = "";
  const width = (s: string) => [...s].length;
  const write = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      out += cells.map((c, j) =>
        j < cells.length - 1 && j < widths.length
          ? c + " ".repeat(Math.max(0, widths[j] - width(c)))
          : c
      ).join("") + (i < lines.length - 1 ? "\n" : "");
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let at = line0; at < line1; at++) {
      if (column >= lines[at].length - 1) continue;
      write(line0, at);
      line0 = at;
      let w = 12;
      for (; at < line1 && column < lines[at].length - 1; at++) {
        w = Math.max(w, width(lines[at][column]) + 2);
      }
      widths.push(w);
      format(line0, at);
      widths.pop();
      line0 = at;
    }
    write(line0, line1);
  };
  format(0, lines.length);
  return out;
}

/** Rows of cells as a Podman table (no trailing newline). */
export function table(rows: string[][]): string {
  return tabwrite(rows.map((r) => r.join("\t")).join("\n"));
}

/** Prints `body` in aligned columns under `head` (unless `noHeading`). */
export function printTable(
  head: string[],
  body: string[][],
  noHeading = false,
): void {
  const out = table(noHeading ? body : [head, ...body]);
  if (out) console.log(out);
}

/**
 * A table's header names by field, as Podman's report.Headers makes them:
 * each field name split at its words and upper-cased ("ImageID" is
 * "IMAGE ID"), unless `overrides` names it.
 */
export function headers(
  fields: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields.split(" ")) {
    out[f] = f.replace(/([a-z])([A-Z])/g, "$1 $2")
      .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2").toUpperCase();
  }
  for (const [f, h] of Object.entries(overrides)) out[f] = h.toUpperCase();
  return out;
}

/** How a command prints its objects, as Podman's code for it does. */
export interface Report<T> {
  /** The template's name in Go's errors (ps, images, inspect...). */
  name: string;
  /** Go's MarshalIndent indent of `--format json`; "" is one line. */
  indent: string;
  /** json-iterator's quirk: an empty object spans two lines. */
  jsoniter?: boolean;
  /** The table's header names by field (Podman's report.Headers). */
  headers?: Record<string, string>;
  /** Said before an execution error (Podman's inspect wraps them). */
  errorPrefix?: string;
  /** The value a template sees for one object. */
  view: (item: T) => unknown;
}

type ValueModule = typeof import("./template/value.ts");
const valueModule = () => lazy<ValueModule>("src/cli/template/value.ts");

type JsonStyle = Pick<Report<unknown>, "indent" | "jsoniter">;

async function jsonText(items: unknown[], style: JsonStyle): Promise<string> {
  const { goJson } = await valueModule();
  return goJson(items, style.indent, "", style.jsoniter);
}

/** Prints `items` as a JSON array the way Podman's code for them does. */
export async function printJson(
  items: unknown[],
  style: JsonStyle,
): Promise<void> {
  console.log(await jsonText(items, style));
}

/**
 * `inspect` of containers, images or volumes: a JSON array (Podman's
 * five-space indent) unless --format is a template, which sees each
 * document with its times as Go's time.Time. `indent`: that of Podman's
 * code for the objects (secrets have four spaces).
 */
export async function printInspect(
  format: string | undefined,
  docs: unknown[],
  indent = "     ",
): Promise<void> {
  const { withTimes } = await valueModule();
  await printReport(format || "json", docs, {
    name: "inspect",
    indent,
    errorPrefix: "inspecting object: printing inspect output: ",
    view: withTimes,
  });
}

/** Whether --format asks for JSON: `json` or `{{json .}}`, as Podman's IsJSON. */
export function isJson(format: string): boolean {
  return /^\s*(json|\{\{\s*json\s*\.?\s*\}\})\s*$/.test(format);
}

type TemplateModule = typeof import("./template/exec.ts");
const templateModule = () => lazy<TemplateModule>("src/cli/template/exec.ts");

/**
 * The text of `items` under a --format: a JSON array, or a template
 * executed for each item (`table` adds the header row, unless `noHeading`,
 * and aligns the columns). A template that cannot run is a one-line error.
 */
export async function renderReport<T>(
  format: string,
  items: T[],
  report: Report<T>,
  noHeading = false,
): Promise<string> {
  if (isJson(format)) return `${await jsonText(items, report)}\n`;
  const { ExecError, parseFormat, TemplateError } = await templateModule();
  const isTable = format.startsWith("table ");
  try {
    const t = parseFormat(report.name, format);
    let out = isTable && !noHeading && report.headers
      ? t.execute([goMap(report.headers)])
      : "";
    out += t.execute(items.map(report.view));
    return isTable ? tabwrite(out) : out;
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    const prefix = e instanceof ExecError ? report.errorPrefix ?? "" : "";
    throw invalid(`${prefix}${e.message}`);
  }
}

/**
 * The text of a template over one object, as Podman's `version` and `info`
 * run it (no {{range .}}); errors as renderReport's.
 */
export async function renderTemplate(
  name: string,
  format: string,
  value: unknown,
): Promise<string> {
  const { parseFormat, TemplateError } = await templateModule();
  try {
    return parseFormat(name, format, false).execute(value);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw invalid(e.message);
  }
}

function write(text: string) {
  const out = new TextEncoder().encode(text);
  // A pipe takes a large write in parts.
  for (let i = 0; i < out.length;) i += Deno.stdout.writeSync(out.subarray(i));
}

/** Prints what renderReport makes of `items`. */
export async function printReport<T>(
  format: string,
  items: T[],
  report: Report<T>,
  noHeading = false,
): Promise<void> {
  write(await renderReport(format, items, report, noHeading));
}

/** Prints what renderTemplate makes of `value`. */
export async function printTemplate(
  name: string,
  format: string,
  value: unknown,
): Promise<void> {
  write(await renderTemplate(name, format, value));
}
