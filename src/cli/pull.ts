/**
 * `ptd pull`, `push`, `login`, `logout`: parsing, one call of
 * src/engine/registry.ts, printing; login asks for what it was not given.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import {
  loggedInUser,
  login,
  logout,
  pull,
  pullAllTags,
  push,
  registryHost,
  search,
} from "../engine/registry.ts";
import type { SearchResult } from "../image/search.ts";
import { headers, printReport } from "./format.ts";
import { parsePlatform } from "../image/oci.ts";
import type { RegistryOptions } from "../image/registry.ts";
import { checkPushOptions } from "../image/push.ts";
import { invalid } from "../runtime/errors.ts";
import { boolArg, intArg } from "./options.ts";
import { pullReporter } from "./progress.ts";

interface TlsFlags {
  tlsVerify: boolean;
  certDir?: string;
  creds?: string;
  authfile?: string;
}

/** Adds --tls-verify, --cert-dir, --creds and --authfile to a registry command. */
export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option("--authfile <path>", "path of the authentication file")
    .option(
      "--tls-verify [=bool]",
      "require HTTPS and verify certificates",
      boolArg("--tls-verify"),
      true,
    )
    .option("--cert-dir <dir>", "directory of CA certificates (*.crt)")
    .option("--creds <user:password>", "credentials for the registry");
}

/** Registry options from the common flags. */
export function registryOptions(f: TlsFlags): RegistryOptions {
  let credentials;
  if (f.creds !== undefined) {
    const i = f.creds.indexOf(":");
    if (i < 0) throw invalid("--creds: want USER:PASSWORD");
    credentials = {
      username: f.creds.slice(0, i),
      password: f.creds.slice(i + 1),
    };
  }
  return {
    tlsVerify: f.tlsVerify,
    certDir: f.certDir,
    credentials,
    authFile: f.authfile,
  };
}

interface PullFlags extends TlsFlags {
  quiet?: boolean;
  allTags?: boolean;
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
}

/** The `pull` command. */
export function pullCommand(_setCode: (code: number) => void): Command {
  return addRegistryOptions(
    new Command("pull")
      .description("Pull an image from a registry")
      .argument("<image>", "image reference")
      .option("-q, --quiet", "print only the image id")
      .option("-a, --all-tags", "pull every tagged image of the repository")
      .option("--platform <os/arch[/variant]>", "platform to pull")
      .option("--os <os>", "operating system to pull")
      .option("--arch <arch>", "architecture to pull")
      .option("--variant <variant>", "architecture variant to pull")
      .option(
        "--disable-content-trust",
        "accepted for Docker compatibility: no effect",
      ),
  ).action(async (name: string, f: PullFlags) => {
    const opts = {
      ...registryOptions(f),
      onProgress: pullReporter(!!f.quiet),
      platform: parsePlatform(f),
    };
    const images = f.allTags
      ? await pullAllTags(userEngine(), name, opts)
      : [await pull(userEngine(), name, opts)];
    for (const img of images) console.log(img.id);
  });
}

/** The `push` command. */
export function pushCommand(_setCode: (code: number) => void): Command {
  return addRegistryOptions(
    new Command("push")
      .description("Push an image to a registry")
      .argument("<image>", "local image")
      .argument("[destination]", "registry/repository:tag to push to")
      .option("-q, --quiet", "print nothing on success")
      .option("--digestfile <file>", "write the pushed manifest's digest here")
      .option(
        "-f, --format <format>",
        "manifest type (oci or v2s2) to use in the destination (default is the image's)",
      )
      .option(
        "--compression-format <format>",
        "compression format of the layers: gzip or zstd (default is the image's)",
      )
      .option(
        "--compress",
        "accepted: layers pushed to a registry are always compressed",
      )
      .option(
        "--remove-signatures",
        "accepted: ptd stores no signatures to copy",
      )
      .option(
        "--disable-content-trust",
        "accepted for Docker compatibility: no effect",
      ),
  ).action(
    async (
      name: string,
      dest: string | undefined,
      f: TlsFlags & {
        quiet?: boolean;
        digestfile?: string;
        format?: string;
        compressionFormat?: string;
      },
    ) => {
      const checked = checkPushOptions(f.format, f.compressionFormat);
      const say = (s: string) => f.quiet || console.error(s);
      say("Getting image source signatures");
      const digest = await push(userEngine(), name, dest, {
        ...registryOptions(f),
        ...checked,
        onProgress: (p) => {
          if (p.kind === "blob") {
            say(
              `Copying ${p.config ? "config" : "blob"} ${p.digest} ${
                p.skipped ? "skipped: already exists" : "done"
              }`,
            );
          } else say("Writing manifest to image destination");
        },
      });
      if (f.digestfile) Deno.writeTextFileSync(f.digestfile, digest);
    },
  );
}

async function readStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

/**
 * Asks for a login field on the terminal (a hidden one echoes nothing), as
 * Podman does; without a terminal the flag is required.
 */
async function ask(label: string, hidden: boolean): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw invalid(
      `${label.toLowerCase()} required: give --${label.toLowerCase()}${
        hidden ? " or --password-stdin" : ""
      }`,
    );
  }
  const enc = new TextEncoder();
  await Deno.stderr.write(enc.encode(`${label}: `));
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  Deno.stdin.setRaw(true);
  try {
    for (;;) {
      if ((await Deno.stdin.read(buf)) === null) break;
      const c = buf[0];
      if (c === 0x0d || c === 0x0a) break;
      if (c === 0x03) throw invalid("login interrupted");
      if (c === 0x7f || c === 0x08) {
        if (bytes.length > 0) {
          bytes.pop();
          if (!hidden) await Deno.stderr.write(enc.encode("\b \b"));
        }
        continue;
      }
      bytes.push(c);
      if (!hidden) await Deno.stderr.write(buf);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The `login` command: checks the credentials, then stores them. */
export function loginCommand(_setCode: (code: number) => void): Command {
  return addRegistryOptions(
    new Command("login")
      .description("Log in to a registry")
      .argument("[registry]", "registry host", "docker.io")
      .option("-u, --username <name>", "user name")
      .option("-p, --password <password>", "password")
      .option("--password-stdin", "read the password from stdin")
      .option("--get-login", "print the user name stored for the registry")
      .option("-v, --verbose", "write more detailed information to stdout"),
  ).action(
    async (
      arg: string,
      f: TlsFlags & {
        username?: string;
        password?: string;
        passwordStdin?: boolean;
        getLogin?: boolean;
        verbose?: boolean;
      },
    ) => {
      const host = registryHost(arg);
      if (f.getLogin) return console.log(loggedInUser(host, f.authfile));
      const username = f.username ?? await ask("Username", false);
      const password = f.passwordStdin
        ? await readStdin()
        : f.password ?? await ask("Password", true);
      const { credentials: _, ...opts } = registryOptions(f);
      const used = await login(host, { username, password }, opts);
      if (f.verbose) console.log(`Used:  ${used}`);
      console.log("Login Succeeded!");
    },
  );
}

/** The `logout` command. */
export function logoutCommand(_setCode: (code: number) => void): Command {
  return new Command("logout")
    .description("Log out of a registry")
    .argument("[registry]", "registry host", "docker.io")
    .option("-a, --all", "log out of every registry")
    .option("--authfile <path>", "path of the authentication file")
    .action(async (arg: string, f: { all?: boolean; authfile?: string }) => {
      const host = f.all ? undefined : registryHost(arg);
      await logout(host, f.authfile);
      console.log(
        host
          ? `Removed login credentials for ${host}`
          : "Removed login credentials for all registries",
      );
    });
}

/** Podman's search table: two-space gaps, the last column unpadded. */
function searchTable(head: string[], rows: string[][]): string[] {
  const w = Math.max(head[0].length, ...rows.map((r) => r[0].length)) + 2;
  return [head, ...rows].map(([a, b]) => a.padEnd(w) + b);
}

/** What `search` prints for `rows`, as Podman prints it. */
async function searchOutput(
  rows: SearchResult[],
  f: { format?: string; listTags?: boolean },
): Promise<string[]> {
  if (rows.length === 0) return [];
  if (f.format === "json") {
    if (!f.listTags) return [JSON.stringify(rows, null, 4)];
    const byName = new Map<string, string[]>();
    for (const r of rows) {
      byName.set(r.Name, [...byName.get(r.Name) ?? [], r.Tag]);
    }
    const docs = [...byName].map(([Name, Tags]) => ({ Name, Tags }));
    return [JSON.stringify(docs, null, 4)];
  }
  // Podman prints its table for --list-tags whatever the template says.
  if (f.format !== undefined && !f.listTags) {
    await printReport(f.format, rows, {
      name: "search",
      indent: "    ",
      headers: headers("Index Name Description Stars Official Automated Tag"),
      view: (r) => r,
    });
    return [];
  }
  return f.listTags
    ? searchTable(["NAME", "TAG"], rows.map((r) => [r.Name, r.Tag]))
    : searchTable(
      ["NAME", "DESCRIPTION"],
      rows.map((r) => [r.Name, r.Description]),
    );
}

/** The `search` command. */
export function searchCommand(): Command {
  return addRegistryOptions(
    new Command("search")
      .description("Search a registry for an image")
      .argument("<term>", "HOST/TERM, or a term for the search registries")
      .option("--format <format>", "json, or a Go template")
      .option("--limit <n>", "at most this many results", intArg("--limit"))
      .option("--list-tags", "list the tags of the repository named")
      .option("--no-trunc", "accepted: descriptions are never shortened")
      .option("-f, --filter <filter>", "accepted: registries have no stars")
      .option("--compatible", "accepted: descriptions are never shortened"),
  ).action(
    async (
      term: string,
      f: TlsFlags & { format?: string; limit?: number; listTags?: boolean },
    ) => {
      const rows = await search(term, {
        ...registryOptions(f),
        // 0 or less: the default, as containers/image reads it.
        limit: f.limit !== undefined && f.limit > 0 ? f.limit : undefined,
        listTags: f.listTags,
      });
      for (const line of await searchOutput(rows, f)) console.log(line);
    },
  );
}
