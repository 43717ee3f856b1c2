import { assert, assertEquals, assertThrows } from "../assert.ts";
import { cachedContainersConf } from "../../src/config/conf_cache.ts";
import { DEFAULT_ENV, hostEnv, mergeEnv } from "../../src/container/env.ts";
import {
  containersConfFiles,
  emptyContainersConf,
  loadContainersConf,
  mergeContainersConf,
} from "../../src/config/containers_conf.ts";
import { withConfDefaults } from "../../src/engine/defaults.ts";
import { checkLogDriver } from "../../src/container/log_driver.ts";
import { parseVolumeFlag } from "../../src/container/mounts.ts";
import { networkSettings } from "../../src/engine/create.ts";
import type { CreateOptions } from "../../src/container/create.ts";
import type { RootSource } from "../../src/storage/root_source.ts";

Deno.test("containers.conf: the [containers] keys ptd has, and [engine]'s events ones", () => {
  const c = mergeContainersConf(
    emptyContainersConf(),
    `[containers]
env = ["A=1", "B=2"]
dns_servers = ["1.1.1.1"]
dns_searches = ["example.com"]
dns_options = ["ndots:2"]
base_hosts_file = "/etc/myhosts"
default_capabilities = ["chown", "CAP_KILL"]
default_ulimits = ["nofile=1024:2048"]
log_driver = "k8s-file"
log_size_max = 1048576
pids_limit = 100
init_path = "/usr/libexec/catatonit"
tz = "UTC"
volumes = ["/srv:/srv:ro"]
[engine]
events_logger = "file"
events_logfile_max_size = "2m"
`,
  );
  assertEquals(c, {
    env: ["A=1", "B=2"],
    dnsServers: ["1.1.1.1"],
    dnsSearches: ["example.com"],
    dnsOptions: ["ndots:2"],
    baseHostsFile: "/etc/myhosts",
    defaultCapabilities: ["CAP_CHOWN", "CAP_KILL"],
    defaultUlimits: ["nofile=1024:2048"],
    logDriver: "k8s-file",
    logSizeMax: 1048576,
    pidsLimit: 100,
    initPath: "/usr/libexec/catatonit",
    tz: "UTC",
    volumes: ["/srv:/srv:ro"],
    eventsLogger: "file",
    eventsMaxSize: 2 * 1024 * 1024,
  });
});

Deno.test("containers.conf: a later file overrides only the keys it sets", () => {
  const first = mergeContainersConf(
    emptyContainersConf(),
    '[containers]\nenv = ["A=1"]\ntz = "UTC"\n',
  );
  const c = mergeContainersConf(first, '[containers]\nenv = ["B=2"]\n');
  assertEquals([c.env, c.tz], [["B=2"], "UTC"]);
  assertThrows(() =>
    mergeContainersConf(c, "[containers]\nenv = 3\n", "x.conf")
  );
  assertThrows(() => mergeContainersConf(c, "[containers\n", "x.conf"));
});

Deno.test("containers.conf: Podman's files, or CONTAINERS_CONF alone", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const env = (vars: Record<string, string>) => (n: string) => vars[n];
    assertEquals(
      containersConfFiles(env({ XDG_CONFIG_HOME: dir }), true).filter((f) =>
        !f.includes(".conf.d/")
      ),
      [
        "/usr/share/containers/containers.conf",
        "/etc/containers/containers.conf",
        `${dir}/containers/containers.conf`,
      ],
    );
    Deno.mkdirSync(`${dir}/containers/containers.conf.d`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/containers/containers.conf.d/b.conf`, "");
    Deno.writeTextFileSync(`${dir}/containers/containers.conf.d/a.conf`, "");
    assertEquals(
      containersConfFiles(env({ XDG_CONFIG_HOME: dir }), true).slice(-2),
      [
        `${dir}/containers/containers.conf.d/a.conf`,
        `${dir}/containers/containers.conf.d/b.conf`,
      ],
    );
    assertEquals(
      containersConfFiles(
        env({ CONTAINERS_CONF: "/x.conf", XDG_CONFIG_HOME: dir }),
        true,
      ),
      ["/x.conf"],
    );
    Deno.writeTextFileSync(`${dir}/a.conf`, '[containers]\ntz = "UTC"\n');
    Deno.writeTextFileSync(`${dir}/b.conf`, '[containers]\ntz = "local"\n');
    assertEquals(
      loadContainersConf([`${dir}/a.conf`, `${dir}/none`, `${dir}/b.conf`]).tz,
      "local",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const ROOT: RootSource = {
  image: "img",
  imageId: "",
  layers: [],
  rootfs: false,
  entrypoint: [],
  cmd: ["sh"],
  env: ["PATH=/bin", "B=image"],
  workdir: "/",
  user: "",
};

function request(host: Partial<CreateOptions["host"]> = {}): CreateOptions {
  return {
    command: [],
    env: ["C=user"],
    labels: {},
    host: {
      autoRemove: false,
      interactive: false,
      tty: false,
      capAdd: [],
      capDrop: [],
      privileged: false,
      noNewPrivileges: false,
      readOnly: false,
      ...networkSettings(),
      groupAdd: [],
      restartPolicy: { name: "no", maximumRetryCount: 0 },
      stopSignal: "SIGTERM",
      stopTimeout: 10,
      ...host,
    },
  };
}

Deno.test("containers.conf defaults fill what the request leaves open", () => {
  const conf = mergeContainersConf(
    emptyContainersConf(),
    `[containers]
env = ["A=conf", "B=conf", "C=conf"]
dns_servers = ["1.1.1.1"]
log_size_max = 2048
default_capabilities = ["CHOWN", "NET_ADMIN", "KILL"]
`,
  );
  const [req, root] = withConfDefaults(request(), ROOT, conf);
  // Podman's order: the configured env under the image's, under --env; it
  // replaces the built-in one (TERM=xterm).
  assertEquals(root, ROOT);
  assertEquals(mergeEnv(req.defaultEnv ?? DEFAULT_ENV, root.env, req.env), [
    "A=conf",
    "B=image",
    "C=user",
    "PATH=/bin",
  ]);
  assertEquals(req.host.dns, {
    servers: ["1.1.1.1"],
    search: [],
    options: [],
  });
  assertEquals(req.host.logMaxSize, 2048);
  assertEquals(req.host.capAdd, ["CAP_NET_ADMIN"]);
  assertEquals(req.host.capDrop.includes("CAP_SETUID"), true);
  assertEquals(req.host.capDrop.includes("CAP_KILL"), false);
  // The request's own settings win.
  const [own] = withConfDefaults(
    request({
      dns: { servers: ["9.9.9.9"], search: [], options: [] },
      logMaxSize: 10,
      capDrop: ["net_admin"],
    }),
    ROOT,
    conf,
  );
  assertEquals(own.host.dns?.servers, ["9.9.9.9"]);
  assertEquals(own.host.logMaxSize, 10);
  assertEquals(own.host.capAdd, []);
  // With no configuration, nothing changes.
  const [plain, same] = withConfDefaults(
    request(),
    ROOT,
    emptyContainersConf(),
  );
  assertEquals([plain.host.capAdd, plain.host.capDrop, same.env], [
    [],
    [],
    ROOT.env,
  ]);
});

Deno.test("containers.conf default_ulimits and tz go under the request's own", () => {
  const conf = mergeContainersConf(
    emptyContainersConf(),
    `[containers]
default_ulimits = ["nofile=100:200", "nproc=50:60"]
tz = "UTC"
`,
  );
  const [req] = withConfDefaults(
    request({ ulimits: [{ name: "nproc", soft: 5, hard: 6 }] }),
    ROOT,
    conf,
  );
  assertEquals(req.host.ulimits, [
    { name: "nofile", soft: 100, hard: 200 },
    { name: "nproc", soft: 5, hard: 6 },
  ]);
  assertEquals(req.host.tz, "UTC");
  const [own] = withConfDefaults(request({ tz: "local" }), ROOT, conf);
  assertEquals(own.host.tz, "local");
});

Deno.test("containers.conf volumes, init_path, base_hosts_file and log_driver", () => {
  const conf = mergeContainersConf(
    emptyContainersConf(),
    `[containers]
volumes = ["/srv/a:/a:ro", "/srv/b:/b"]
init_path = "/opt/init"
base_hosts_file = "none"
log_driver = "none"
pids_limit = 5
`,
  );
  const [req] = withConfDefaults(
    { ...request({ init: true }), mounts: [parseVolumeFlag("/mine:/b")] },
    ROOT,
    conf,
  );
  // The request's -v over the configured one of the same destination.
  assertEquals(
    req.mounts?.map((m) => `${m.source}:${m.destination}:${m.readonly}`),
    ["/srv/a:/a:true", "/mine:/b:false"],
  );
  assertEquals(
    [req.host.initPath, req.host.baseHostsFile, req.host.logDriver],
    ["/opt/init", "none", "none"],
  );
  // init_path only matters with --init; the request's driver wins.
  const [own] = withConfDefaults(
    request({ logDriver: "k8s-file" }),
    ROOT,
    conf,
  );
  assertEquals([own.host.initPath, own.host.logDriver], [
    undefined,
    "k8s-file",
  ]);
  assertThrows(
    () => withConfDefaults(request(), ROOT, { ...conf, volumes: ["bad"] }),
    /must be an absolute path/,
  );
});

Deno.test("log drivers: Podman's, journald only with a journal", () => {
  for (const d of [undefined, "k8s-file", "json-file", "none", "passthrough"]) {
    checkLogDriver(d);
  }
  assertThrows(
    () => checkLogDriver("bogus"),
    /^running container create option: invalid log driver: invalid argument$/,
  );
  assertThrows(() => checkLogDriver("journald"), /journal/);
});

Deno.test("containers.conf is parsed again only when a file changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/a.conf`, cache = `${dir}/cache.json`;
    Deno.writeTextFileSync(file, `[containers]\nenv = ["A=1"]\n`);
    assertEquals((await cachedContainersConf(cache, [file])).env, ["A=1"]);
    // The kept result is what a second call returns, unparsed...
    const kept = JSON.parse(Deno.readTextFileSync(cache));
    kept.conf.env = ["KEPT=1"];
    Deno.writeTextFileSync(cache, JSON.stringify(kept));
    assertEquals((await cachedContainersConf(cache, [file])).env, ["KEPT=1"]);
    // ...until the file changes.
    Deno.writeTextFileSync(file, `[containers]\nenv = ["A=22"]\n`);
    assertEquals((await cachedContainersConf(cache, [file])).env, ["A=22"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--env-host: the host's variables, none of ptd's own settings", () => {
  Deno.env.set("PTD_HOST_ENV_PROBE", "1");
  Deno.env.set("HOST_ENV_PROBE", "2");
  try {
    const env = hostEnv();
    assert(env.includes("HOST_ENV_PROBE=2"));
    assert(!env.some((e) => e.startsWith("PTD_")));
  } finally {
    Deno.env.delete("PTD_HOST_ENV_PROBE");
    Deno.env.delete("HOST_ENV_PROBE");
  }
});
