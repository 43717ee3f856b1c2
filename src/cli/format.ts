/**
 * Output the Docker way: aligned tables, and --format Go templates. The
 * template subset is what scripts use: `{{.Field}}`, `{{.A.B}}`, `{{json .}}`,
 * `{{json .Field}}`, a leading `table` for a header row, and `\t`/`\n`.
 */
import { invalid } from "../runtime/errors.ts";

/** Pads columns like Go's tabwriter with Docker's three-space gap. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows.map((r) =>
    r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))
      .join("").trimEnd()
  ).join("\n");
}

const ACTION = /\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g;

function lookup(value: unknown, path: string): unknown {
  if (path === "") return value;
  let v = value;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object" || !(key in v)) {
      throw invalid(
        `template: can't evaluate field ${key} in type ${typeof v}`,
      );
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(show).join(" ")}]`;
  if (v !== null && typeof v === "object") {
    return `map[${
      Object.entries(v).map(([k, x]) => `${k}:${show(x)}`).join(" ")
    }]`;
  }
  return String(v);
}

/** Renders one template action list against `value`. */
export function renderTemplate(template: string, value: unknown): string {
  const rest = template.replace(ACTION, "");
  if (rest.includes("{{")) {
    throw invalid(`template: unsupported action in ${template}`);
  }
  return template.replace(/\\t/g, "\t").replace(/\\n/g, "\n").replace(
    ACTION,
    (_, json, path) => {
      const v = lookup(value, path);
      return json ? JSON.stringify(v) : show(v);
    },
  );
}

/**
 * Prints `items` with a --format: "json" (one object per line), a template,
 * or "table TEMPLATE" (a header row from the field names, then aligned rows).
 */
export function printFormatted(format: string, items: unknown[]): void {
  if (format === "json") {
    for (const i of items) console.log(JSON.stringify(i));
    return;
  }
  const isTable = /^table\s/.test(format);
  const tmpl = isTable ? format.replace(/^table\s+/, "") : format;
  const lines = items.map((i) => renderTemplate(tmpl, i));
  if (!isTable) {
    for (const l of lines) console.log(l);
    return;
  }
  const header = tmpl.replace(
    ACTION,
    (_, _j, path: string) =>
      path.split(".").pop()!.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase(),
  ).replace(/\\t/g, "\t");
  const out = table([header, ...lines].map((l) => l.split("\t")));
  if (out) console.log(out);
}
