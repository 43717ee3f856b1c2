/**
 * `run` and `create` flags that scripts written for Podman pass beyond the
 * core ones of run.ts: the image's platform and registry settings, labels
 * from files, annotations, environment removal, a pid file, required
 * containers, the image's volumes. Declared here, merged into the request
 * run.ts builds.
 */
import type { HostConfig, InitCtrType } from "../container/config.ts";
import type { CreateRequest } from "../engine/create.ts";
import { parsePlatform } from "../image/oci.ts";
import { parseSysctls } from "../container/sysctls.ts";
import { invalid } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { boolArg, parseLabels, repeatable } from "./options.ts";
import type { OptionSpec } from "./spec.ts";

/** What the flags below put in the options object. */
export interface CreateFlags {
  /** --pod and create's --init-ctr. */
  pod?: string;
  initCtr?: string;
  quiet?: boolean;
  labelFile: string[];
  annotation: string[];
  unsetenv: string[];
  unsetenvAll?: boolean;
  tlsVerify?: boolean;
  platform?: string;
  arch?: string;
  os?: string;
  variant?: string;
  pidfile?: string;
  requires: string[];
  initPath?: string;
  imageVolume?: string;
  volumesFrom: string[];
  httpProxy: boolean;
  hosts: boolean;
  sysctl: string[];
  umask?: string;
  pid?: string;
  uts?: string;
  personality?: string;
  passwdEntry?: string;
  envMerge: string[];
  conmonPidfile?: string;
  chrootdirs: string[];
  secret: string[];
}

/** Flags Podman ignores on a local build; accepted for its scripts. */
const ACCEPTED: OptionSpec[] = [
  {
    flags: "--disable-content-trust",
    description: "accepted for Docker compatibility: no effect",
  },
];

/** The proxy variables Podman hands on from its own environment. */
const PROXY_VARS = [
  "http_proxy",
  "https_proxy",
  "ftp_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "FTP_PROXY",
  "NO_PROXY",
];

/** --http-proxy (default true): the caller's proxy variables, KEY=VALUE. */
function proxyEnv(on: boolean): string[] {
  if (!on) return [];
  return PROXY_VARS.flatMap((k) => {
    const v = Deno.env.get(k);
    return v === undefined ? [] : [`${k}=${v}`];
  });
}

/** The flags `run` and `create` share. */
export const CREATE_FLAGS: OptionSpec[] = [
  {
    flags: "-q, --quiet",
    description: "suppress output information when pulling images",
  },
  repeatable("--label-file <file>", "read in a line delimited file of labels"),
  repeatable("--annotation <key=value>", "add an annotation to the container"),
  repeatable("--unsetenv <name>", "unset a default environment variable"),
  {
    flags: "--unsetenv-all",
    description:
      "unset all default environment variables (image, containers.conf, ptd's own)",
  },
  {
    flags: "--tls-verify [=bool]",
    description: "require HTTPS and verify certificates when pulling",
    parse: boolArg("--tls-verify"),
  },
  { flags: "--platform <os/arch>", description: "platform of the image" },
  { flags: "--arch <arch>", description: "architecture of the image" },
  { flags: "--os <os>", description: "operating system of the image" },
  { flags: "--variant <variant>", description: "architecture variant" },
  {
    flags: "--pidfile <path>",
    description: "write the container process ID to this file",
  },
  repeatable(
    "--requires <containers>",
    "containers (comma-separated) started before this one",
  ),
  {
    flags: "--init-path <path>",
    description: "path to the container-init binary for --init",
  },
  {
    flags: "--image-volume <mode>",
    description: "the image's volumes: bind (default), tmpfs or ignore",
  },
  repeatable("--sysctl <key=value>", "a namespaced kernel parameter"),
  {
    flags: "--umask <umask>",
    description: 'set umask in container (default "0022")',
  },
  {
    flags: "--pid <mode>",
    description:
      "PID namespace: private (default), host, container:NAME, ns:PATH",
  },
  {
    flags: "--uts <mode>",
    description:
      "UTS namespace: private (default), host, container:NAME, ns:PATH",
  },
  {
    flags: "--personality <domain>",
    description: "execution domain: LINUX or LINUX32",
  },
  {
    flags: "--passwd-entry <entry>",
    description:
      "the /etc/passwd entry for a numeric user ($USERNAME, $UID, $GID, $NAME, $HOME)",
  },
  repeatable(
    "--env-merge <key=value>",
    "change a default or image variable: PATH=/opt:${PATH}",
  ),
  {
    flags: "--conmon-pidfile <path>",
    description: "write the pid of the container's monitor to this file",
  },
  repeatable("--secret <secret>", "add secret to container"),
  repeatable(
    "--chrootdirs <dirs>",
    "chroot directories inside the container that get /etc/hosts and /etc/resolv.conf too",
  ),
  {
    flags: "--no-hosts",
    description: "do not create /etc/hosts: the image's stays",
  },
  repeatable(
    "--volumes-from <container[:ro|rw]>",
    "mount the volumes and binds of another container",
  ),
  {
    flags: "--http-proxy [=bool]",
    description: "pass the caller's proxy environment variables on",
    parse: boolArg("--http-proxy"),
    default: true,
  },
  ...ACCEPTED,
];

/** `create`'s own flag: Podman's `run` has no --init-ctr. */
export const INIT_CTR_FLAG: OptionSpec = {
  flags: "--init-ctr <type>",
  description:
    "make this a pod init container: always (at each pod start) or once",
};

/** --init-ctr, checked in Podman's order: a pod first, then the value. */
function initCtrType(f: CreateFlags): InitCtrType | undefined {
  if (f.initCtr === undefined) return undefined;
  if (!f.pod) throw invalid("must specify pod value with init-ctr");
  if (f.initCtr !== "always" && f.initCtr !== "once") {
    throw invalid("init-ctr value must be 'always' or 'once'");
  }
  return f.initCtr;
}

/** Lines of a --label-file: KEY=VALUE, blank lines and # comments skipped. */
function readLabelFile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw invalid(
      `unable to process labels: open ${path}: no such file or directory`,
    );
  }
  return text.split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

function imageVolumeMode(value: string | undefined) {
  if (value === undefined) return undefined;
  if (value === "bind" || value === "tmpfs" || value === "ignore") return value;
  throw invalid(
    `invalid image volume mode "${value}" required value: bind, tmpfs, ignore`,
  );
}

/**
 * The request's part these flags make; `labels` are the -l labels, which
 * win over a --label-file's.
 */
export function createFlagsRequest(
  f: CreateFlags,
  labels: Record<string, string>,
): Pick<
  CreateRequest,
  | "labels"
  | "pullOptions"
  | "unsetEnv"
  | "unsetEnvAll"
  | "imageVolume"
  | "volumesFrom"
  | "proxyEnv"
  | "envMerge"
> {
  return {
    labels: { ...parseLabels(f.labelFile.flatMap(readLabelFile)), ...labels },
    pullOptions: {
      tlsVerify: f.tlsVerify,
      platform: parsePlatform(f),
    },
    unsetEnv: f.unsetenv,
    unsetEnvAll: !!f.unsetenvAll,
    imageVolume: imageVolumeMode(f.imageVolume),
    volumesFrom: f.volumesFrom,
    proxyEnv: proxyEnv(f.httpProxy),
    envMerge: f.envMerge,
  };
}

/**
 * The host settings of the flags that need more code than a copy: their
 * parsers load only when one of them is given (`run` is a hot command).
 */
async function processHost(f: CreateFlags): Promise<Partial<HostConfig>> {
  const host: Partial<HostConfig> = {};
  if (f.pid !== undefined || f.uts !== undefined) {
    const { parseSharedNs } = await lazy<
      typeof import("../container/shared_ns.ts")
    >("src/container/shared_ns.ts");
    if (f.pid !== undefined) host.pid = parseSharedNs(f.pid);
    if (f.uts !== undefined) host.uts = parseSharedNs(f.uts);
  }
  if (f.umask !== undefined || f.personality !== undefined) {
    const { parsePersonality, parseUmask } = await lazy<
      typeof import("../container/process_opts.ts")
    >("src/container/process_opts.ts");
    if (f.umask !== undefined) host.umask = parseUmask(f.umask);
    if (f.personality !== undefined) {
      host.personality = parsePersonality(f.personality);
    }
  }
  if (f.secret.length > 0) {
    const { parseSecret } = await lazy<typeof import("../secret/use.ts")>(
      "src/secret/use.ts",
    );
    host.secrets = f.secret.map(parseSecret);
  }
  return host;
}

/** The host settings these flags make. */
export async function createFlagsHost(
  f: CreateFlags,
): Promise<Partial<HostConfig>> {
  const host: Partial<HostConfig> = {};
  const initCtr = initCtrType(f);
  if (initCtr) host.initCtr = initCtr;
  if (f.annotation.length > 0) host.annotations = parseLabels(f.annotation);
  if (f.pidfile !== undefined) host.pidFile = f.pidfile;
  const requires = f.requires.flatMap((r) => r.split(",")).filter(Boolean);
  if (requires.length > 0) host.requires = requires;
  if (f.initPath !== undefined) host.initPath = f.initPath;
  if (f.sysctl.length > 0) host.sysctls = parseSysctls(f.sysctl);
  if (!f.hosts) host.noHosts = true;
  if (f.passwdEntry !== undefined) host.passwdEntry = f.passwdEntry;
  if (f.conmonPidfile !== undefined) host.conmonPidFile = f.conmonPidfile;
  const chroots = f.chrootdirs.flatMap((d) => d.split(",")).filter(Boolean);
  if (chroots.length > 0) host.chrootDirs = chroots;
  return { ...host, ...await processHost(f) };
}
