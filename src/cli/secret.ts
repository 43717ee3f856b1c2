/**
 * `ptd secret create|ls|inspect|rm|exists`: parsing, one call of
 * src/engine/secrets.ts, printing in Podman's layout.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import {
  createSecret,
  inspectSecrets,
  listSecrets,
  removeSecrets,
  secretExists,
  type SecretInspect,
} from "../engine/secrets.ts";
import { invalid } from "../runtime/errors.ts";
import { goTimeString, humanDuration } from "../runtime/gomap.ts";
import type { SecretRecord } from "../secret/store.ts";
import { headers, printInspect, printReport } from "./format.ts";
import { collect, parseLabels } from "./options.ts";
import { reportError } from "./targets.ts";

/** Podman's limits on a secret's size, in bytes. */
const MAX_SIZE = 512000;

/** The bytes of `secret create`'s source: a file, `-` (stdin) or --env. */
async function secretData(source: string, fromEnv: boolean) {
  if (fromEnv) {
    const value = Deno.env.get(source);
    if (value === undefined) {
      throw invalid(
        `cannot create store secret data: environment variable ${source} is not set`,
      );
    }
    return new TextEncoder().encode(value);
  }
  if (source === "-") {
    const data = new Uint8Array(
      await new Response(Deno.stdin.readable)
        .arrayBuffer(),
    );
    if (data.length === 0) {
      throw invalid("if `-` is used, data must be passed into stdin");
    }
    return data;
  }
  try {
    return Deno.readFileSync(source);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : (e as Error).message;
    throw invalid(`open ${source}: ${why}`);
  }
}

/** `--driver-opts k=v,k2=v2` (repeatable) as a map. */
function driverOptions(items: string[]): Record<string, string> {
  return parseLabels(items.flatMap((i) => i.split(",")).filter(Boolean));
}

/** What a `secret ls` template sees: Podman's row of one secret. */
function listView(r: SecretRecord) {
  const ago = (iso: string) =>
    `${humanDuration(Date.now() - Date.parse(iso))} ago`;
  return {
    ID: r.id,
    Name: r.name,
    Driver: r.driver,
    CreatedAt: ago(r.createdAt),
    UpdatedAt: ago(r.updatedAt ?? r.createdAt),
  };
}

const LIST_FORMAT =
  "{{range .}}{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}\n{{end -}}";

/** `secret inspect --pretty`: Podman's lines, spacing included. */
function pretty(d: SecretInspect): string {
  const labels = Object.entries(d.Spec.Labels);
  return [
    `ID:              ${d.ID}`,
    `Name:              ${d.Spec.Name}`,
    ...(labels.length > 0
      ? ["Labels:", ...labels.map(([k, v]) => ` - ${k}=${v}`)]
      : []),
    `Driver:            ${d.Spec.Driver.Name}`,
    `Created at:        ${goTimeString(d.CreatedAt)}`,
    `Updated at:        ${goTimeString(d.UpdatedAt)}`,
  ].join("\n");
}

/** The `secret` command group. */
export function secretCommand(setCode: (code: number) => void): Command {
  const group = new Command("secret").description("Manage secrets");
  group.command("create")
    .description("Create a new secret")
    .argument("<name>", "the secret's name")
    .argument("<file>", "file with the secret's data, - for stdin")
    .option("-d, --driver <driver>", "secret driver: file", "file")
    .option(
      "--driver-opts <key=value>",
      "driver specific options",
      collect,
      [],
    )
    .option(
      "-e, --env",
      "read the secret's data from this environment variable",
    )
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .action(async (
      name: string,
      source: string,
      f: {
        driver: string;
        driverOpts: string[];
        env?: boolean;
        label: string[];
      },
    ) => {
      const data = await secretData(source, !!f.env);
      if (data.length === 0 || data.length >= MAX_SIZE) {
        throw invalid(
          "secret data must be larger than 0 and less than 512000 bytes",
        );
      }
      console.log(
        await createSecret(userEngine(), name, data, {
          driver: f.driver,
          driverOptions: driverOptions(f.driverOpts),
          labels: parseLabels(f.label),
        }),
      );
    });
  group.command("ls")
    .alias("list")
    .description("List secrets")
    .option("-f, --filter <filter>", "filter output (name=, id=)", collect, [])
    .option("--format <format>", "a Go template such as {{.Name}}")
    .option("--noheading", "do not print headers")
    .option("-q, --quiet", "print secret IDs only")
    .action(
      async (
        f: {
          filter: string[];
          format?: string;
          noheading?: boolean;
          quiet?: boolean;
        },
      ) => {
        const rows = listSecrets(userEngine(), f.filter);
        if (f.quiet) return rows.forEach((r) => console.log(r.id));
        const format = f.format ?? `table ${LIST_FORMAT}`;
        await printReport(format, rows, {
          name: "ls",
          indent: "    ",
          headers: headers("ID Name Driver CreatedAt UpdatedAt", {
            CreatedAt: "created",
            UpdatedAt: "updated",
          }),
          view: listView,
        }, !!f.noheading);
      },
    );
  group.command("inspect")
    .description("Inspect a secret")
    .argument("<names...>")
    .option("-f, --format <format>", "a Go template such as {{.Spec.Name}}")
    .option("--pretty", "print in a human-readable format")
    .action(
      async (refs: string[], f: { format?: string; pretty?: boolean }) => {
        const { docs, error } = inspectSecrets(userEngine(), refs);
        if (f.pretty) docs.forEach((d) => console.log(pretty(d)));
        else await printInspect(f.format, docs, "    ");
        if (error) {
          reportError(error);
          setCode(125);
        }
      },
    );
  group.command("rm")
    .alias("remove")
    .description("Remove one or more secrets")
    .option("-a, --all", "remove all secrets")
    .argument("[names...]")
    .action(async (refs: string[], f: { all?: boolean }) => {
      if (!f.all === (refs.length === 0)) {
        throw invalid(
          "`ptd secret rm` requires one argument, or the --all flag",
        );
      }
      let failed = false;
      for (const ref of f.all ? [] : refs) {
        try {
          (await removeSecrets(userEngine(), [ref])).forEach((id) =>
            console.log(id)
          );
        } catch (e) {
          reportError(e);
          failed = true;
        }
      }
      if (f.all) {
        (await removeSecrets(userEngine(), [], true)).forEach((id) =>
          console.log(id)
        );
      }
      if (failed) setCode(125);
    });
  group.command("exists")
    .description("Check if a secret exists in local storage")
    .argument("<name>")
    .action((ref: string) => setCode(secretExists(userEngine(), ref) ? 0 : 1));
  return group;
}
