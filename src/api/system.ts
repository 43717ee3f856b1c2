/**
 * System routes: `_ping` (version negotiation reads its Api-Version
 * header), `version`, `info`, `system/df` and `auth` (credentials checked,
 * not kept: the client sends them with each pull), in Docker's shapes.
 */
import { diskUsage, systemInfo, versionInfo } from "../engine/system.ts";
import { checkLogin, registryHost } from "../engine/registry.ts";
import { invalid } from "../runtime/errors.ts";
import { json, jsonBody } from "./reply.ts";
import { API_VERSION, MIN_API_VERSION, type Route } from "./router.ts";

const ping: Route[2] = () =>
  Promise.resolve({
    status: 200,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-cache, no-store, must-revalidate",
      Pragma: "no-cache",
    },
    body: "OK",
  });

type Doc = Record<string, Record<string, unknown>>;

/** The system routes. */
export const systemRoutes: Route[] = [
  ["GET", "/_ping", ping],
  ["POST", "/_ping", ping],
  ["GET", "/version", () => {
    const v = versionInfo();
    const arch = v.OsArch.split("/")[1];
    const doc = {
      Version: v.Version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: v.GitCommit,
      GoVersion: v.GoVersion,
      Os: v.Os,
      Arch: arch,
      KernelVersion: Deno.osRelease(),
      BuildTime: new Date(v.Built * 1000).toISOString(),
    };
    return Promise.resolve(json({
      Platform: { Name: "ptd" },
      Components: [{ Name: "Engine", Version: v.Version, Details: doc }],
      ...doc,
    }));
  }],
  ["GET", "/info", async ({ e }) => {
    const doc = await systemInfo(e) as Doc;
    const { host, store } = doc;
    const counts = store.containerStore as Record<string, number>;
    const security = host.security as Record<string, unknown>;
    return json({
      ID: "",
      Containers: counts.number,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: (store.imageStore as Record<string, number>).number,
      Driver: store.graphDriverName,
      DriverStatus: [],
      Plugins: {
        Volume: ["local"],
        Network: ["bridge", "host", "none"],
        Log: ["json-file", "k8s-file", "none"],
      },
      MemoryLimit: false,
      SwapLimit: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: "json-file",
      CgroupDriver: host.cgroupManager,
      CgroupVersion: String(host.cgroupVersion).replace("v", ""),
      KernelVersion: host.kernel,
      OperatingSystem: (host.distribution as Record<string, string>)
        .distribution,
      OSType: host.os,
      Architecture: host.arch,
      NCPU: host.cpus,
      MemTotal: host.memTotal,
      DockerRootDir: store.graphRoot,
      Name: host.hostname,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: versionInfo().Version,
      Runtimes: { ptd: { path: (host.ociRuntime as { path: string }).path } },
      DefaultRuntime: "ptd",
      Swarm: { LocalNodeState: "inactive", ControlAvailable: false },
      LiveRestoreEnabled: true,
      Isolation: "",
      SecurityOptions: security.rootless ? ["name=rootless"] : [],
      Warnings: [],
    });
  }],
  ["POST", "/auth", async ({ req }) => {
    const body = await jsonBody(req);
    const { username, password, serveraddress } = body;
    if (typeof username !== "string" || typeof password !== "string") {
      throw invalid("auth: username and password are required");
    }
    const server = typeof serveraddress === "string" && serveraddress
      ? serveraddress
      : "docker.io";
    await checkLogin(registryHost(server), { username, password });
    return json({ Status: "Login Succeeded", IdentityToken: "" });
  }],
  ["GET", "/system/df", async ({ e }) => {
    const u = await diskUsage(e);
    return json({
      LayersSize: u.summary.find((s) => s.Type === "Images")?.Size ?? 0,
      Images: u.images.map((i) => ({
        Id: i.id,
        RepoTags: i.names,
        Created: Math.floor(Date.parse(i.created) / 1000),
        Size: i.size,
        SharedSize: 0,
        Containers: i.containers,
      })),
      Containers: u.containers.map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: c.image,
        Command: c.command.join(" "),
        SizeRw: c.size,
        Created: Math.floor(Date.parse(c.created) / 1000),
        Status: c.status,
      })),
      Volumes: u.volumes.map((v) => ({
        Name: v.name,
        UsageData: { Size: v.size, RefCount: v.links },
      })),
    });
  }],
];
