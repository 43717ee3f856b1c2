/**
 * Quadlet, as Podman 4.4 introduced it: `.container` and `.volume` files in
 * ~/.config/containers/systemd/ (or $XDG_CONFIG_HOME/containers/systemd/)
 * become systemd units, written by ptd run as a systemd user generator
 * (`ptd-user-generator` links to ptd; bin/ptd turns that name into
 * `ptd quadlet-generator`). systemd calls it at every daemon-reload with
 * the directory to write units into. A file ptd cannot translate is skipped
 * with a line on stderr (the journal), the others still get their units.
 */

import { ptdExecutable } from "./exe.ts";

/** One parsed unit file: sections of key/value lines, in order. */
type UnitFile = Map<string, [string, string][]>;

/** Parses systemd's unit file syntax (comments, continuation lines). */
export function parseUnitFile(text: string): UnitFile {
  const out: UnitFile = new Map();
  let section = "";
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      if (!out.has(section)) out.set(section, []);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !section) continue;
    out.get(section)!.push([
      line.slice(0, eq).trim(),
      line.slice(eq + 1).trim(),
    ]);
  }
  return out;
}

/** Splits a value into words as systemd does (double and single quotes). */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m; (m = re.exec(value)) !== null;) {
    words.push(
      m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2] ?? m[3],
    );
  }
  return words;
}

const values = (f: UnitFile, section: string, key: string) =>
  (f.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);

const last = (f: UnitFile, section: string, key: string) =>
  values(f, section, key).at(-1);

/** An argument for a unit's command line: quoted if it holds space. */
function quote(arg: string): string {
  const a = arg.replaceAll("%", "%%").replaceAll("$", () => "$$");
  return /[\s"'\\]/.test(a) ? JSON.stringify(a) : a;
}

const yes = (v?: string) => v !== undefined && /^(1|yes|true|on)$/i.test(v);

/**
 * Quadlet's [Container] keys that ptd supports, as `run` flags; a key not
 * here is an error, as Quadlet rejects unknown keys.
 */
const CONTAINER_KEYS: Record<string, (v: string) => string[]> = {
  Image: () => [],
  Rootfs: () => [],
  Exec: () => [],
  ContainerName: () => [],
  Notify: () => [],
  GlobalArgs: () => [],
  Environment: (v) => splitWords(v).flatMap((e) => ["--env", e]),
  EnvironmentFile: (v) => ["--env-file", v],
  PublishPort: (v) => ["--publish", v],
  Volume: (v) => ["--volume", v],
  Tmpfs: (v) => ["--tmpfs", v],
  Network: (v) => ["--network", v],
  User: (v) => ["--user", v],
  Group: () => [],
  WorkingDir: (v) => ["--workdir", v],
  HostName: (v) => ["--hostname", v],
  Label: (v) => splitWords(v).flatMap((l) => ["--label", l]),
  ReadOnly: (v) => yes(v) ? ["--read-only"] : [],
  NoNewPrivileges: (v) => yes(v) ? ["--security-opt", "no-new-privileges"] : [],
  DropCapability: (v) => splitWords(v).flatMap((c) => ["--cap-drop", c]),
  AddCapability: (v) => splitWords(v).flatMap((c) => ["--cap-add", c]),
  RunInit: (v) => yes(v) ? ["--init"] : [],
  Timezone: (v) => ["--tz", v],
  PodmanArgs: (v) => splitWords(v),
};

/** The unit text for the `.container` file `source`, parsed as `f`. */
export function containerService(
  source: string,
  f: UnitFile,
  exe: string,
): string {
  const c = f.get("Container") ?? [];
  for (const [k] of c) {
    if (!(k in CONTAINER_KEYS)) {
      throw new Error(
        `unsupported key '${k}' in group 'Container' in ${source}`,
      );
    }
  }
  const image = last(f, "Container", "Image");
  const rootfs = last(f, "Container", "Rootfs");
  if (!image && !rootfs) {
    throw new Error(`no Image or Rootfs key specified in ${source}`);
  }
  let user = last(f, "Container", "User");
  const group = last(f, "Container", "Group");
  if (group !== undefined) user = `${user ?? "0"}:${group}`;
  const flags = c.filter(([k]) => k !== "User")
    .flatMap(([k, v]) => CONTAINER_KEYS[k](v));
  if (user !== undefined) flags.push("--user", user);
  const notify = yes(last(f, "Container", "Notify"));
  const global = values(f, "Container", "GlobalArgs").flatMap(splitWords);
  const run = [
    exe,
    ...global,
    "run",
    `--name=${last(f, "Container", "ContainerName") ?? "systemd-%N"}`,
    "--cidfile=%t/%N.cid",
    "--replace",
    "--rm",
    "--cgroups=split",
    `--sdnotify=${notify ? "container" : "conmon"}`,
    "-d",
    ...flags,
    ...(rootfs ? ["--rootfs", rootfs] : [image!]),
    ...values(f, "Container", "Exec").flatMap(splitWords),
  ];
  const rm = [
    exe,
    ...global.map(quote),
    "rm",
    "-f",
    "-i",
    "--cidfile=%t/%N.cid",
  ]
    .join(" ");
  const lines = [
    `# Automatically generated by ptd's quadlet generator from ${source}`,
    "",
    "[Unit]",
    `SourcePath=${source}`,
    "RequiresMountsFor=%t/ptd",
    ...(f.get("Unit") ?? []).map(([k, v]) => `${k}=${v}`),
    "",
    "[Service]",
    "Environment=PODMAN_SYSTEMD_UNIT=%n",
    "KillMode=mixed",
    `ExecStop=${rm}`,
    `ExecStopPost=-${rm}`,
    "ExecStopPost=-rm -f %t/%N.cid",
    "Delegate=yes",
    "Type=notify",
    "NotifyAccess=all",
    "SyslogIdentifier=%N",
    `ExecStart=${
      run.map((a, i) => i === 0 || a.includes("%") ? a : quote(a)).join(" ")
    }`,
    ...(f.get("Service") ?? []).map(([k, v]) => `${k}=${v}`),
  ];
  const install = f.get("Install") ?? [];
  if (install.length > 0) {
    lines.push("", "[Install]", ...install.map(([k, v]) => `${k}=${v}`));
  }
  return lines.join("\n") + "\n";
}

/** The unit text for a `.volume` file: a oneshot that creates the volume. */
export function volumeService(
  name: string,
  source: string,
  f: UnitFile,
  exe: string,
): string {
  const labels = values(f, "Volume", "Label").flatMap(splitWords)
    .flatMap((l) => ["--label", quote(l)]);
  return [
    `# Automatically generated by ptd's quadlet generator from ${source}`,
    "",
    "[Unit]",
    `SourcePath=${source}`,
    ...(f.get("Unit") ?? []).map(([k, v]) => `${k}=${v}`),
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecCondition=/bin/sh -c '! ${exe} volume inspect systemd-${name} >/dev/null 2>&1'`,
    `ExecStart=${
      [exe, "volume", "create", ...labels, `systemd-${name}`].join(" ")
    }`,
    ...(f.get("Service") ?? []).map(([k, v]) => `${k}=${v}`),
    "",
  ].join("\n");
}

/** Where Quadlet files of the user live. */
export function quadletDir(): string {
  const config = Deno.env.get("XDG_CONFIG_HOME") ??
    `${Deno.env.get("HOME")}/.config`;
  return `${config}/containers/systemd`;
}

/**
 * Writes a unit into `out` for each Quadlet file in `dir`, and the
 * WantedBy=/RequiredBy= links its [Install] asks for; returns how many
 * files could not be translated.
 */
export function generate(dir: string, out: string, exe: string): number {
  let failed = 0;
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch { /* no Quadlet files */ }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const m = /^(.+)\.(container|volume|network)$/.exec(e.name);
    if (!m) continue;
    const [, name, kind] = m;
    const source = `${dir}/${e.name}`;
    try {
      const f = parseUnitFile(Deno.readTextFileSync(source));
      if (kind === "network") {
        throw new Error(`${source}: ptd has no networks of its own yet`);
      }
      const service = kind === "container" ? name : `${name}-volume`;
      const text = kind === "container"
        ? containerService(source, f, exe)
        : volumeService(name, source, f, exe);
      Deno.writeTextFileSync(`${out}/${service}.service`, text);
      for (const key of ["WantedBy", "RequiredBy"]) {
        for (const target of values(f, "Install", key).flatMap(splitWords)) {
          const sub = `${out}/${target}.${
            key === "WantedBy" ? "wants" : "requires"
          }`;
          Deno.mkdirSync(sub, { recursive: true });
          try {
            Deno.symlinkSync(
              `../${service}.service`,
              `${sub}/${service}.service`,
            );
          } catch { /* there already */ }
        }
      }
    } catch (err) {
      console.error(`ptd quadlet: ${(err as Error).message}`);
      failed++;
    }
  }
  return failed;
}

/**
 * `ptd quadlet-generator NORMAL [EARLY LATE]`, as systemd runs a
 * generator: units go into NORMAL. Exits 0 even when a file was skipped,
 * so that the others still load.
 */
export function quadletMain(args: string[]): number {
  if (args.length < 1) {
    console.error(
      "usage: ptd quadlet-generator NORMAL-DIR [EARLY-DIR LATE-DIR]",
    );
    return 2;
  }
  generate(quadletDir(), args[0], ptdExecutable());
  return 0;
}
