/**
 * `ptd pod create|ps|inspect|start|stop|kill|restart|pause|unpause|rm|prune|
 * exists|top|logs`: parsing, calls of src/engine/pods.ts, printing.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { checkSignal, topContainer } from "../engine/lifecycle.ts";
import { goJson } from "./template/value.ts";
import {
  createPod,
  freezePod,
  inspectPod,
  killPod,
  listPods,
  podContainers,
  podExists,
  type PodListing,
  prunePods,
  removePod,
  restartPod,
  selectPods,
  startPod,
  stopPod,
} from "../engine/pods.ts";
import { parsePublish } from "../network/ports.ts";
import type { PodRecord } from "../pod/store.ts";
import { humanDuration } from "../runtime/gomap.ts";
import { askToContinue } from "./confirm.ts";
import { headers, printInspect, printReport, printTable } from "./format.ts";
import { collect, parseLabels } from "./options.ts";
import { ENGINE_ERROR, type ExitPolicy, reportFailures } from "./targets.ts";
import { invalid, isKind, PtdError } from "../runtime/errors.ts";
import { logsSpec } from "./containers.ts";

const POD_HEADERS = headers(
  "Id Name Status Created InfraId NumberOfContainers Cgroup Namespaces ContainerIds ContainerNames ContainerStatuses",
  {
    Id: "pod id",
    InfraId: "infra id",
    NumberOfContainers: "# of containers",
    ContainerIds: "ids",
    ContainerNames: "names",
    ContainerStatuses: "status",
  },
);

/** How the verbs that act on pods select them. */
interface PodSelect {
  all?: boolean;
  latest?: boolean;
  ignore?: boolean;
  podIdFile?: string[];
}

/** The ids in --pod-id-file files (Podman's files hold one id each). */
function idsFromFiles(files: string[] = []): string[] {
  return files.map((f) => {
    try {
      return Deno.readTextFileSync(f).trim();
    } catch {
      throw invalid(`reading pod ID from file ${f}: no such file or directory`);
    }
  });
}

/**
 * Runs `fn` for each pod selected, printing its id; failures after, with
 * Podman's exit code for the verb.
 */
async function eachPod(
  refs: string[],
  f: PodSelect,
  fn: (pod: PodRecord) => Promise<unknown>,
  setCode: (code: number) => void,
  policy: ExitPolicy = ENGINE_ERROR,
) {
  const e = userEngine();
  const errors: unknown[] = [];
  let selected: PodRecord[] = [];
  try {
    selected = selectPods(e, [...refs, ...idsFromFiles(f.podIdFile)], f);
  } catch (err) {
    errors.push(err);
  }
  for (const pod of selected) {
    try {
      // false: the verb had nothing to do with it (Podman is silent then).
      if (await fn(pod) !== false) console.log(pod.id);
    } catch (err) {
      errors.push(err);
    }
  }
  setCode(reportFailures(errors, policy));
}

/** The selection flags of a verb over pods. */
function selecting(cmd: Command, all: string, idFile = false): Command {
  cmd.option("-a, --all", all)
    .option("-l, --latest", "act on the latest pod ptd is aware of")
    .argument("[pods...]");
  if (idFile) {
    cmd.option(
      "--pod-id-file <file>",
      "read the pod ID from the file",
      collect,
      [],
    );
  }
  return cmd;
}

/** `pod ps` rows as templates see them. */
function podView(p: PodListing, noTrunc = false) {
  const id = (x: string) => noTrunc ? x : x.slice(0, 12);
  return {
    ...p,
    NumberOfContainers: p.Containers.length,
    InfraId: id(p.InfraId),
    Id: id(p.Id),
    Namespaces: "",
    ContainerIds: p.Containers.map((c) => id(c.Id)).join(","),
    ContainerNames: p.Containers.map((c) => c.Names).join(","),
    ContainerStatuses: p.Containers.map((c) => c.Status).join(","),
  };
}

/** The columns of the `pod ps` table, as its flags choose them. */
function psColumns(f: {
  ns?: boolean;
  ctrIds?: boolean;
  ctrNames?: boolean;
  ctrStatus?: boolean;
}): (keyof ReturnType<typeof podView>)[] {
  const ctr = [
    ...(f.ctrIds ? ["ContainerIds" as const] : []),
    ...(f.ctrNames ? ["ContainerNames" as const] : []),
    ...(f.ctrStatus ? ["ContainerStatuses" as const] : []),
  ];
  return [
    "Id",
    "Name",
    "Status",
    "Created",
    "InfraId",
    ...(f.ns ? ["Cgroup" as const, "Namespaces" as const] : []),
    ...(ctr.length > 0 ? ctr : ["NumberOfContainers" as const]),
  ];
}

function createCommand(): Command {
  return new Command("create")
    .description("Create a new empty pod")
    // -h is --hostname, as in Podman.
    .helpOption("--help", "display help for command")
    .option("-n, --name <name>", "pod name")
    .option("-p, --publish <port>", "publish a port of the pod", collect, [])
    .option("--network <mode>", "the pod's network", collect, [])
    .option(
      "--share <namespaces>",
      "namespaces to share: ipc,net,pid,uts, none, or +NS to add to ipc,net,uts",
    )
    .option("--infra [bool]", "create an infra container", "true")
    .option("--infra-image <image>", "the infra container's image")
    .option("--infra-command <command>", "the infra container's entrypoint")
    .option("--infra-name <name>", "the infra container's name")
    .option(
      "--infra-conmon-pidfile <file>",
      "where the infra container's monitor writes its pid",
    )
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .option("-h, --hostname <name>", "the pod's hostname")
    .option("--add-host <host:ip>", "a line of /etc/hosts", collect, [])
    .option("--dns <ip>", "DNS server", collect, [])
    .option("--pod-id-file <file>", "write the pod ID to the file")
    .option("--replace", "replace a pod of the same name")
    .argument("[name]")
    .action(async (arg: string | undefined, f: {
      name?: string;
      publish: string[];
      network: string[];
      share?: string;
      infra: string;
      infraImage?: string;
      infraCommand?: string;
      infraName?: string;
      infraConmonPidfile?: string;
      label: string[];
      hostname?: string;
      addHost: string[];
      dns: string[];
      podIdFile?: string;
      replace?: boolean;
    }) => {
      const pod = await createPod(userEngine(), {
        name: f.name ?? arg,
        ports: f.publish.flatMap(parsePublish),
        network: f.network,
        share: f.share,
        infra: f.infra !== "false",
        infraImage: f.infraImage,
        infraCommand: f.infraCommand,
        infraName: f.infraName,
        infraMonitorPidFile: f.infraConmonPidfile,
        labels: parseLabels(f.label),
        hostname: f.hostname,
        addHosts: f.addHost,
        dns: f.dns,
        replace: f.replace,
      });
      if (f.podIdFile) Deno.writeTextFileSync(f.podIdFile, pod.id);
      console.log(pod.id);
    });
}

function psCommand(): Command {
  return new Command("ps")
    .alias("ls")
    .alias("list")
    .description("List pods")
    .option("--format <format>", "json, or a Go template such as {{.Name}}")
    .option("--noheading", "do not print headers")
    .option("-q, --quiet", "print only pod ids")
    .option("--no-trunc", "do not truncate ids")
    .option("--ctr-ids", "display the containers' ids")
    .option("--ctr-names", "display the containers' names")
    .option("--ctr-status", "display the containers' statuses")
    .option("--ns", "display the pod's namespaces")
    .option("-l, --latest", "the latest pod only")
    .option(
      "--sort <key>",
      "sort by created (newest first), id, name, number or status",
      "created",
    )
    .option(
      "-f, --filter <filter>",
      "filter output (name, id, label, status, ctr-names, ctr-ids, ctr-status, ctr-number, network, until)",
      collect,
      [],
    )
    .action(async (f: {
      filter: string[];
      format?: string;
      noheading?: boolean;
      quiet?: boolean;
      trunc?: boolean;
      latest?: boolean;
      sort: string;
      ns?: boolean;
      ctrIds?: boolean;
      ctrNames?: boolean;
      ctrStatus?: boolean;
    }) => {
      let ps = await listPods(userEngine(), f.filter, f.sort);
      if (f.latest) {
        ps = ps.toSorted((a, b) => b.Created.localeCompare(a.Created))
          .slice(0, 1);
        if (ps.length === 0) {
          throw new PtdError("not-found", "no such pod", 125);
        }
      }
      const noTrunc = f.trunc === false;
      if (f.quiet) {
        return ps.forEach((p) => console.log(podView(p, noTrunc).Id));
      }
      if (f.format !== undefined) {
        return await printReport(f.format, ps, {
          name: "ps",
          indent: "  ",
          headers: POD_HEADERS,
          view: (p) => podView(p, noTrunc),
        });
      }
      const columns = psColumns(f);
      const body = ps.map((p) => {
        const v = podView(p, noTrunc);
        return columns.map((k) =>
          k === "Created"
            ? `${humanDuration(Date.now() - Date.parse(p.Created))} ago`
            : String(v[k])
        );
      });
      printTable(columns.map((k) => POD_HEADERS[k]), body, f.noheading);
    });
}

function inspectCommand(): Command {
  return new Command("inspect")
    .description("Show pods as JSON")
    .option("-f, --format <format>", "json, or a Go template")
    .option("-l, --latest", "the latest pod")
    .argument("[pods...]")
    .action(
      async (refs: string[], f: { format?: string; latest?: boolean }) => {
        const e = userEngine();
        if (f.latest) {
          try {
            refs = selectPods(e, refs, { latest: true }).map((p) => p.id);
          } catch (err) {
            throw isKind(err, "not-found")
              ? new PtdError("not-found", "no such pod", 125)
              : err;
          }
        }
        if (refs.length === 0) throw invalid("no names or ids specified");
        const docs = [];
        let missing: string | undefined;
        for (const ref of refs) {
          try {
            docs.push(await inspectPod(e, ref));
          } catch (err) {
            if (!isKind(err, "not-found")) throw err;
            missing ??= ref;
          }
        }
        // Podman 4.3 prints one pod as an object, not an array.
        if (!f.format || f.format === "json") {
          console.log(
            docs.length === 1
              ? goJson(docs[0], "     ")
              : goJson(docs, "     "),
          );
        } else await printInspect(f.format, docs);
        if (missing !== undefined) {
          throw new PtdError(
            "not-found",
            `inspecting object: no such pod ${missing}`,
            125,
          );
        }
      },
    );
}

function topCommand(): Command {
  return new Command("top")
    .description("Display the running processes of containers in a pod")
    .option("-l, --latest", "the latest pod")
    .argument("[pod]")
    .argument("[descriptors...]")
    .action(
      async (
        ref: string | undefined,
        args: string[],
        f: { latest?: boolean },
      ) => {
        const e = userEngine();
        let list;
        try {
          const [pod] = selectPods(e, ref ? [ref] : [], f);
          list = await podContainers(e, pod.id, true);
        } catch (err) {
          throw isKind(err, "not-found")
            ? invalid(
              `unable to look up requested container: ${
                (err as Error).message
              }`,
            )
            : err;
        }
        let header = true;
        for (const c of list) {
          try {
            const lines = await topContainer(e, c.id, args);
            lines.slice(header ? 0 : 1).forEach((l) => console.log(l));
            header = false;
          } catch { /* not running */ }
        }
      },
    );
}

function logsCommand(setCode: (code: number) => void): Command {
  const cmd = new Command("logs")
    .description("Fetch logs for pod with one or more containers")
    .option(
      "-c, --container <name>",
      "only the logs of this container of the pod",
    )
    .option("--color", "accepted: ptd's logs have no colors");
  for (const o of logsSpec.options) {
    if (o.parse) {
      const parse = o.parse as (value: string, previous: unknown) => unknown;
      cmd.option(o.flags, o.description, parse, o.default);
    } else cmd.option(o.flags, o.description, o.default as string);
  }
  return cmd.argument("[pod]")
    .action(async (
      ref: string | undefined,
      f: { container?: string; latest?: boolean } & Record<string, unknown>,
    ) => {
      const e = userEngine();
      const [pod] = selectPods(e, ref ? [ref] : [], f);
      let list = await podContainers(e, pod.id, true);
      if (f.container !== undefined) {
        const want = f.container;
        list = list.filter((c) => c.name === want || c.id.startsWith(want));
        if (list.length === 0) {
          throw invalid(
            `container ${want} is not in pod ${pod.name}: no such container`,
          );
        }
      }
      if (list.length === 0) return;
      const code = await logsSpec.action(list.map((c) => c.id), {
        ...f,
        latest: false,
      });
      if (typeof code === "number") setCode(code);
    });
}

/** The `pod` command group. */
export function podCommand(setCode: (code: number) => void): Command {
  const group = new Command("pod").description("Manage pods");
  group.addCommand(createCommand());
  group.addCommand(psCommand());
  group.addCommand(inspectCommand());
  group.addCommand(topCommand());
  group.addCommand(logsCommand(setCode));
  for (
    const [verb, what, fn] of [
      ["start", "Start one or more pods", startPod],
      ["restart", "Restart one or more pods", restartPod],
    ] as const
  ) {
    selecting(group.command(verb), `${verb} all pods`, verb === "start")
      .description(what)
      .action((refs: string[], f: PodSelect) =>
        eachPod(refs, f, (p) => fn(userEngine(), p), setCode)
      );
  }
  selecting(group.command("stop"), "stop all running pods", true)
    .description("Stop one or more pods")
    .option("-i, --ignore", "no error for pods that do not exist")
    .option(
      "-t, --time <seconds>",
      "seconds to wait for the stop before killing the containers",
    )
    .action((refs: string[], f: PodSelect & { time?: string }) =>
      eachPod(
        refs,
        f,
        (p) =>
          stopPod(
            userEngine(),
            p,
            f.time === undefined ? undefined : Number(f.time),
          ),
        setCode,
      )
    );
  for (const [verb, freeze] of [["pause", true], ["unpause", false]] as const) {
    selecting(group.command(verb), `${verb} all pods`)
      .description(`${freeze ? "Pause" : "Unpause"} one or more pods`)
      .action((refs: string[], f: PodSelect) =>
        eachPod(refs, f, (p) => freezePod(userEngine(), p, freeze), setCode)
      );
  }
  selecting(group.command("kill"), "kill all containers in all pods")
    .description("Send the specified signal or SIGKILL to containers in a pod")
    .option("-s, --signal <signal>", "signal to send", "KILL")
    .action((refs: string[], f: PodSelect & { signal: string }) => {
      checkSignal(f.signal);
      return eachPod(
        refs,
        f,
        (p) => killPod(userEngine(), p, f.signal),
        setCode,
      );
    });
  selecting(group.command("rm"), "remove all pods", true)
    .description("Remove one or more stopped pods and containers")
    .option("-f, --force", "stop running containers first")
    .option("-i, --ignore", "no error for pods that do not exist")
    .option("-t, --time <seconds>", "ignored: ptd kills the containers")
    .action((refs: string[], f: PodSelect & { force?: boolean }) =>
      // -f: a pod that is not there is no failure, as in Podman.
      eachPod(
        refs,
        { ...f, ignore: f.ignore || f.force },
        (p) => removePod(userEngine(), p, !!f.force),
        setCode,
        (kinds) => kinds.includes("not-found") ? 1 : 125,
      )
    );
  group.command("prune")
    .description("Remove all stopped pods and their containers")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (f: { force?: boolean }) => {
      if (
        !f.force &&
        !askToContinue(
          "WARNING! This will remove all stopped/exited pods..",
        )
      ) return;
      const r = await prunePods(userEngine());
      r.removed.forEach((id) => console.log(id));
      setCode(reportFailures(r.errors.map((x) => x.error)));
    });
  group.command("exists")
    .description("Check if a pod exists in local storage")
    .argument("<pod>")
    .action((ref: string) => setCode(podExists(userEngine(), ref) ? 0 : 1));
  return group;
}
