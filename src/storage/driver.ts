/**
 * Which storage driver a store uses. A store keeps the driver it was first
 * used with (the file `storage-driver` in its data directory), and asking
 * for another one is refused with Podman's error. Without
 * `--storage-driver`, the store's own driver holds, then containers'
 * storage.conf, then overlay. Unpacked layers are the same for both
 * drivers; only container roots differ (an overlay upper, or a whole copy
 * under vfs), so a store older than the record is overlay once it has
 * containers.
 */
import { invalid } from "../runtime/errors.ts";
import { ensureDir, supportsDriver } from "./paths.ts";

/** The driver this process, and the processes it starts, were asked for. */
const DRIVER_ENV = "PTD_STORAGE_DRIVER";
const RECORD = "storage-driver";

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** The driver the store at `data` was used with, if it was. */
function recordedDriver(data: string): string | undefined {
  const recorded = readText(`${data}/${RECORD}`)?.trim();
  if (recorded) return recorded;
  try {
    return Deno.statSync(`${data}/containers`).isDirectory
      ? "overlay"
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `driver` key of the `[storage]` table of containers' storage.conf,
 * where Podman reads it: the user's own file, else the system's.
 */
function configuredDriver(): string | undefined {
  const home = Deno.env.get("HOME") ?? "/";
  const config = Deno.env.get("XDG_CONFIG_HOME") || `${home}/.config`;
  const files = Deno.uid() === 0 ? [] : [`${config}/containers/storage.conf`];
  for (const file of [...files, "/etc/containers/storage.conf"]) {
    const text = readText(file);
    if (text === undefined) continue;
    let table = "";
    for (const line of text.split("\n")) {
      const header = line.match(/^\s*\[([^\]]*)\]/);
      if (header) table = header[1].trim();
      const m = line.match(/^\s*driver\s*=\s*"([^"]*)"/);
      if (table === "storage" && m) return m[1] || undefined;
    }
    return undefined;
  }
  return undefined;
}

/**
 * Checks `--storage-driver NAME` against the store at `data` (recording it
 * there when the store is new) and passes it on to child processes.
 */
export function selectDriver(name: string, data: string): void {
  if (!supportsDriver(name)) {
    throw invalid(
      `failed to GetDriver graph ${name} ${data}: driver not supported`,
    );
  }
  const recorded = recordedDriver(data);
  if (recorded !== undefined && recorded !== name) {
    throw invalid(
      `database storage graph driver "${recorded}" does not match our storage graph driver "${name}": database configuration mismatch`,
    );
  }
  if (recorded === undefined) record(data, name);
  Deno.env.set(DRIVER_ENV, name);
}

function record(data: string, name: string) {
  Deno.writeTextFileSync(`${ensureDir(data)}/${RECORD}`, `${name}\n`);
}

/**
 * The driver of the store at `data`, as this process uses it; a store
 * without one takes it for good.
 */
export function storeDriver(data: string): string {
  const chosen = Deno.env.get(DRIVER_ENV) ?? recordedDriver(data);
  if (chosen !== undefined) return chosen;
  const configured = configuredDriver();
  const name = configured && supportsDriver(configured)
    ? configured
    : "overlay";
  record(data, name);
  return name;
}
