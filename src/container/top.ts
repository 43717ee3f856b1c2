/**
 * `top`: the processes of a running container, as Podman 4.3 shows them.
 * Podman's format descriptors (psgo's: `podman top --help` lists them) are
 * read from /proc for the processes in the container's PID namespace, and
 * nothing else. Arguments that are not all descriptors (`aux`, `-eo pid`)
 * run ps(1) inside the container, as Podman does: its ps sees only the
 * container's processes.
 */
import { pipeFromChild } from "../../ffi/fd.ts";
import { ALL_CAPS } from "../runtime/caps.ts";
import { conflict, PtdError } from "../runtime/errors.ts";
import type { ContainerConfig } from "./config.ts";
import { execWithStdio, readContainerFile } from "./exec.ts";
import { monitorAlive, reconcile } from "./liveness.ts";
import type { ContainerStore } from "./store.ts";

/** USER_HZ: the unit of /proc/PID/stat times, 100 on every Linux ABI. */
const CLK_TCK = 100;

/** One process as /proc shows it to us (host ids and pids). */
interface Proc {
  hpid: number;
  /** Its pid in the container's PID namespace. */
  pid: number;
  /** stat fields from 3 (state) on: field N is stat[N - 3]. */
  stat: string[];
  status: Map<string, string>;
  cmdline: string;
  comm: string;
  /** Start, in seconds since the epoch (whole seconds, as psgo has it). */
  start: number;
}

/** What the descriptors need besides the process itself. */
interface Context {
  /** Host pid -> container pid, for ppid and pgid. */
  nsPid: Map<number, number>;
  uidMap: number[][];
  gidMap: number[][];
  /** The container's /etc/passwd and /etc/group, id -> name. */
  users: Map<number, string>;
  groups: Map<number, string>;
  /** Now, in microseconds since the epoch. */
  now: number;
}

type Descriptor = [header: string, value: (p: Proc, x: Context) => string];

const statField = (p: Proc, n: number) => p.stat[n - 3];

/** An id of ours mapped into the container (uid_map "inside outside count"). */
function inside(id: number, map: number[][]): number {
  for (const [ins, out, count] of map) {
    if (id >= out && id < out + count) return ins + id - out;
  }
  return 65534; // the kernel's overflow id
}

const named = (names: Map<number, string>, id: number) =>
  names.get(id) ?? String(id);

/** Real (0) or effective (1) id of a "Uid:"/"Gid:" line. */
const idOf = (p: Proc, key: string, which: number) =>
  Number(p.status.get(key)!.split(/\s+/)[which]);

const user = (which: number) => (p: Proc, x: Context) =>
  named(x.users, inside(idOf(p, "Uid", which), x.uidMap));
const group = (which: number) => (p: Proc, x: Context) =>
  named(x.groups, inside(idOf(p, "Gid", which), x.gidMap));

const supplementary = (p: Proc) =>
  (p.status.get("Groups") ?? "").split(/\s+/).filter(Boolean).map(Number);

/** Go's time.Duration.String() of `us` microseconds. */
export function goDuration(us: number): string {
  if (us === 0) return "0s";
  const trim = (whole: number, frac: number, digits: number) =>
    frac === 0
      ? `${whole}`
      : `${whole}.${String(frac).padStart(digits, "0").replace(/0+$/, "")}`;
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${trim(Math.floor(us / 1000), us % 1000, 3)}ms`;
  const s = Math.floor(us / 1_000_000), h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const secs = `${trim(s % 60, us % 1_000_000, 6)}s`;
  return h > 0 ? `${h}h${m}m${secs}` : m > 0 ? `${m}m${secs}` : secs;
}

const elapsedUs = (p: Proc, x: Context) => Math.max(0, x.now - p.start * 1e6);

/** CPU time in whole seconds, as psgo counts it. */
const cpuSeconds = (p: Proc) =>
  Math.floor((Number(statField(p, 14)) + Number(statField(p, 15))) / CLK_TCK);

/** The controlling terminal's name from stat's tty_nr, or "?". */
function ttyName(nr: number): string {
  const major = (nr >> 8) & 0xfff, minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  return "?";
}

/** A capability set ("CapEff:" hex) as psgo names it. */
function capabilities(hex: string | undefined): string {
  const bits = BigInt(`0x${hex ?? "0"}`);
  const names = ALL_CAPS.filter((_, i) => (bits >> BigInt(i)) & 1n)
    .map((c) => c.slice(4));
  if (names.length === 0) return "none";
  if (names.length === ALL_CAPS.length) return "full";
  return names.sort().join(",");
}

const caps = (key: string): Descriptor[1] => (p) =>
  capabilities(p.status.get(key));

/** A UTC time as Go's time.Time.String() prints it (containers lack a TZ). */
function goTime(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

const SECCOMP = ["disabled", "strict", "filter"];

/** SELinux label of a process, "?" without SELinux (psgo's). */
function label(p: Proc): string {
  try {
    Deno.statSync("/sys/fs/selinux/enforce");
    return Deno.readTextFileSync(`/proc/${p.hpid}/attr/current`)
      .replace(/\0*\n?$/, "") || "?";
  } catch {
    return "?";
  }
}

/** Podman's descriptors: header and value. */
const DESCRIPTORS: Record<string, Descriptor> = {
  args: ["COMMAND", (p) => p.cmdline || `[${p.comm}]`],
  capamb: ["AMBIENT CAPS", caps("CapAmb")],
  capbnd: ["BOUNDING CAPS", caps("CapBnd")],
  capeff: ["EFFECTIVE CAPS", caps("CapEff")],
  capinh: ["INHERITED CAPS", caps("CapInh")],
  capprm: ["PERMITTED CAPS", caps("CapPrm")],
  comm: ["COMMAND", (p) => p.comm],
  etime: ["ELAPSED", (p, x) => goDuration(elapsedUs(p, x))],
  group: ["GROUP", group(1)],
  groups: [
    "GROUPS",
    (p, x) =>
      supplementary(p).map((g) => named(x.groups, inside(g, x.gidMap)))
        .join(","),
  ],
  // The host's ids, named by the container's files: what Podman prints.
  hgroup: ["HGROUP", (p, x) => named(x.groups, idOf(p, "Gid", 1))],
  hgroups: [
    "HGROUPS",
    (p, x) => supplementary(p).map((g) => named(x.groups, g)).join(","),
  ],
  hpid: ["HPID", (p) => String(p.hpid)],
  huser: ["HUSER", (p, x) => named(x.users, idOf(p, "Uid", 1))],
  label: ["LABEL", label],
  nice: ["NI", (p) => statField(p, 19)],
  pcpu: [
    "%CPU",
    (p, x) => (100 * cpuSeconds(p) / (elapsedUs(p, x) / 1e6)).toFixed(3),
  ],
  pgid: ["PGID", (p, x) => String(x.nsPid.get(Number(statField(p, 5))) ?? 0)],
  pid: ["PID", (p) => String(p.pid)],
  ppid: ["PPID", (p, x) => String(x.nsPid.get(Number(statField(p, 4))) ?? 0)],
  rgroup: ["RGROUP", group(0)],
  rss: ["RSS", (p) => (p.status.get("VmRSS") ?? "0").split(/\s+/)[0]],
  ruser: ["RUSER", user(0)],
  seccomp: [
    "SECCOMP",
    (p) => SECCOMP[Number(p.status.get("Seccomp") ?? 0)] ?? "?",
  ],
  state: ["STATE", (p) => statField(p, 3)],
  stime: ["STIME", (p) => goTime(p.start)],
  time: ["TIME", (p) => goDuration(cpuSeconds(p) * 1e6)],
  tty: ["TTY", (p) => ttyName(Number(statField(p, 7)))],
  user: ["USER", user(1)],
  vsz: ["VSZ", (p) => String(Math.floor(Number(statField(p, 23)) / 1024))],
};

/** ps(1)'s AIX format codes, which psgo takes too. */
const AIX: Record<string, string> = {
  "%C": "pcpu",
  "%G": "group",
  "%P": "ppid",
  "%U": "user",
  "%a": "args",
  "%c": "comm",
  "%g": "rgroup",
  "%n": "nice",
  "%p": "pid",
  "%r": "pgid",
  "%t": "etime",
  "%u": "ruser",
  "%x": "time",
  "%y": "tty",
  "%z": "vsz",
};

/** `podman top CTR` with no descriptors. */
const DEFAULT = ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"];

/** The descriptors in `args` (commas split them too), or undefined. */
export function descriptors(args: string[]): string[] | undefined {
  const words = args.flatMap((a) => a.split(",")).filter(Boolean)
    .map((w) => AIX[w] ?? w);
  if (words.length === 0) return DEFAULT;
  return words.every((w) => Object.hasOwn(DESCRIPTORS, w)) ? words : undefined;
}

/** Pids of every process in the PID namespace of `pid`. */
function containerPids(pid: number): number[] {
  const ns = Deno.readLinkSync(`/proc/${pid}/ns/pid`);
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${e.name}/ns/pid`) === ns) {
        out.push(Number(e.name));
      }
    } catch { /* gone meanwhile, or not ours */ }
  }
  return out;
}

/** Boot time, seconds since the epoch (/proc/stat btime). */
function bootTime(): number {
  return Number(/^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))![1]);
}

function readProc(hpid: number, boot: number): Proc | undefined {
  try {
    const rawStat = Deno.readTextFileSync(`/proc/${hpid}/stat`);
    const stat = rawStat.slice(rawStat.lastIndexOf(")") + 2).split(" ");
    const status = new Map(
      Deno.readTextFileSync(`/proc/${hpid}/status`).split("\n")
        .map((l) => l.split(/:\s*/, 2) as [string, string]),
    );
    const nsPids = status.get("NSpid")!.split(/\s+/);
    return {
      hpid,
      pid: Number(nsPids[nsPids.length - 1]),
      stat,
      status,
      cmdline: Deno.readTextFileSync(`/proc/${hpid}/cmdline`)
        .replaceAll("\0", " "),
      comm: Deno.readTextFileSync(`/proc/${hpid}/comm`).trimEnd(),
      start: boot + Math.floor(Number(stat[22 - 3]) / CLK_TCK),
    };
  } catch {
    return undefined; // exited while we looked
  }
}

function idMap(path: string): number[][] {
  return Deno.readTextFileSync(path).trim().split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number));
}

/** id -> name from a passwd or group file. */
function names(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]);
  }
  return out;
}

/**
 * Lines as Go's tabwriter pads them for `podman top` (containers/common
 * report.NewWriterDefault: minimum width 12, padding 2); the last cell is
 * left as it is.
 */
function tabwrite(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) =>
    Math.max(12, ...rows.map((r) => r[i].length + 2))
  );
  return rows.map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("")
  );
}

/** The descriptors' table for the container whose init is `initPid`. */
function psgo(
  store: ContainerStore,
  c: ContainerConfig,
  initPid: number,
  words: string[],
): string[] {
  const boot = bootTime();
  const procs = containerPids(initPid).map((p) => readProc(p, boot))
    .filter((p): p is Proc => p !== undefined).sort((a, b) => a.pid - b.pid);
  const x: Context = {
    nsPid: new Map(procs.map((p) => [p.hpid, p.pid])),
    uidMap: idMap(`/proc/${initPid}/uid_map`),
    gidMap: idMap(`/proc/${initPid}/gid_map`),
    users: names(readContainerFile(store, c, "/etc/passwd")),
    groups: names(readContainerFile(store, c, "/etc/group")),
    now: Math.round((performance.timeOrigin + performance.now()) * 1000),
  };
  const cols = words.map((w) => DESCRIPTORS[w]);
  return tabwrite([
    cols.map(([header]) => header),
    ...procs.map((p) => cols.map(([, value]) => value(p, x))),
  ]);
}

/**
 * `ps ARGS` run in the container, as Podman runs it; lines that hold the
 * arguments (the ps itself, mostly) are dropped, as Podman drops them.
 */
async function psInContainer(
  store: ContainerStore,
  c: ContainerConfig,
  args: string[],
): Promise<string[]> {
  const out = pipeFromChild(true), err = pipeFromChild(true);
  const lines = async (f: Deno.FsFile) => {
    const text = await new Response(f.readable).text();
    return text ? text.replace(/\n$/, "").split("\n") : [];
  };
  const stdout = lines(out.file), stderr = lines(err.file);
  let code;
  try {
    code = await execWithStdio(store, c, ["ps", ...args], [
      0,
      out.write,
      err.write,
    ]);
  } catch (e) {
    throw new PtdError(
      "internal",
      `executing ps(1) in the container: ${(e as Error).message}`,
    );
  }
  if (code !== 0) {
    throw new PtdError(
      "internal",
      `executing ps(1) in the container: runtime failed with exit status: ${code} and output: ${
        (await stderr).join(" ")
      }`,
    );
  }
  const cmd = args.join(" ");
  return (await stdout).filter((l) => !l.includes(cmd));
}

/**
 * The lines `podman top` prints for `c` with `args` (descriptors, or ps(1)
 * options). The container must be running.
 */
export async function containerTop(
  store: ContainerStore,
  c: ContainerConfig,
  args: string[],
): Promise<string[]> {
  const st = await reconcile(store, c.id);
  if (st.status !== "running" || !monitorAlive(st)) {
    throw conflict("top can only be used on running containers");
  }
  const words = descriptors(args);
  return words
    ? psgo(store, c, st.pid, words)
    : await psInContainer(store, c, args);
}
