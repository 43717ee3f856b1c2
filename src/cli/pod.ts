/**
 * `ptd pod create|ps|inspect|start|stop|kill|restart|rm|prune|exists|top|logs`:
 * parsing, calls of src/engine/pods.ts, printing.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import {
  checkSignal,
  containerLogs,
  topContainer,
} from "../engine/lifecycle.ts";
import { goJson } from "./template/value.ts";
import {
  createPod,
  freezePod,
  inspectPod,
  killPod,
  latestPod,
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
import { ENGINE_ERROR, REMOVAL, reportFailures } from "./targets.ts";
import { invalid, isKind, notFound, PtdError } from "../runtime/errors.ts";
import { printLog } from "./containers.ts";

const POD_HEADERS = headers(
  "Id Name Status Created InfraId NumberOfContainers",
  { Id: "pod id", InfraId: "infra id", NumberOfContainers: "# of containers" },
);

/** Runs `fn` for each pod selected, printing its id; failures after. */
/** The selection flags of the pod verbs. */
interface PodSelection {
  all?: boolean;
  latest?: boolean;
}

const LATEST = "act on the latest pod ptd is aware of";

async function eachPod(
  refs: string[],
  sel: { all?: boolean; latest?: boolean },
  fn: (pod: PodRecord) => Promise<unknown>,
  setCode: (code: number) => void,
  policy = REMOVAL,
) {
  const e = userEngine();
  const errors: unknown[] = [];
  let selected: PodRecord[] = [];
  try {
    selected = selectPods(e, refs, sel.all, sel.latest);
  } catch (err) {
    errors.push(err);
  }
  for (const pod of selected) {
    try {
      await fn(pod);
      console.log(pod.id);
    } catch (err) {
      errors.push(err);
    }
  }
  setCode(reportFailures(errors, policy));
}

/** `pod ps` rows as templates see them. */
function podView(p: PodListing) {
  return {
    ...p,
    NumberOfContainers: p.Containers.length,
    InfraId: p.InfraId.slice(0, 12),
    Id: p.Id.slice(0, 12),
  };
}

/** The `pod` command group. */
export function podCommand(setCode: (code: number) => void): Command {
  const group = new Command("pod").description("Manage pods");
  group.command("create")
    .description("Create a new empty pod")
    .option("--name <name>", "pod name")
    .option("-p, --publish <port>", "publish a port of the pod", collect, [])
    .option("--network <mode>", "the pod's network", collect, [])
    .option("--share <namespaces>", "namespaces to share: net,ipc,uts")
    .option("--infra [bool]", "create an infra container", "true")
    .option("--infra-image <image>", "accepted: ptd's infra is catatonit")
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .option("--hostname <name>", "the pod's hostname")
    .option("--add-host <host:ip>", "a line of /etc/hosts", collect, [])
    .option("--dns <ip>", "DNS server", collect, [])
    .argument("[name]")
    .action(async (arg: string | undefined, f: {
      name?: string;
      publish: string[];
      network: string[];
      share?: string;
      infra: string;
      label: string[];
      hostname?: string;
      addHost: string[];
      dns: string[];
    }) => {
      const pod = await createPod(userEngine(), {
        name: f.name ?? arg,
        ports: f.publish.flatMap(parsePublish),
        network: f.network,
        share: f.share?.split(",").filter(Boolean),
        infra: f.infra !== "false",
        labels: parseLabels(f.label),
        hostname: f.hostname,
        addHosts: f.addHost,
        dns: f.dns,
      });
      console.log(pod.id);
    });
  group.command("ps")
    .alias("ls")
    .alias("list")
    .description("List pods")
    .option("--format <format>", "json, or a Go template such as {{.Name}}")
    .option("--noheading", "do not print headers")
    .option("-q, --quiet", "print only pod ids")
    .option("--no-trunc", "do not truncate ids")
    .option(
      "-f, --filter <filter>",
      "filter output (name, id, label, status, ctr-names, ctr-ids)",
      collect,
      [],
    )
    .option("-l, --latest", LATEST)
    .action(async (f: {
      filter: string[];
      format?: string;
      noheading?: boolean;
      quiet?: boolean;
      trunc?: boolean;
      latest?: boolean;
    }) => {
      const e = userEngine();
      const latest = f.latest ? latestPod(e).id : undefined;
      const ps = (await listPods(e, f.filter))
        .filter((p) => latest === undefined || p.Id === latest);
      const id = (x: string) => f.trunc === false ? x : x.slice(0, 12);
      if (f.quiet) return ps.forEach((p) => console.log(id(p.Id)));
      if (f.format !== undefined) {
        return await printReport(f.format, ps, {
          name: "ps",
          indent: "  ",
          headers: POD_HEADERS,
          view: podView,
        }, f.noheading);
      }
      const body = ps.map((p) => [
        id(p.Id),
        p.Name,
        p.Status,
        `${humanDuration(Date.now() - Date.parse(p.Created))} ago`,
        id(p.InfraId),
        String(p.Containers.length),
      ]);
      const h = POD_HEADERS;
      printTable(
        [h.Id, h.Name, h.Status, h.Created, h.InfraId, h.NumberOfContainers],
        body,
        f.noheading,
      );
    });
  group.command("inspect")
    .description("Show a pod as JSON")
    .option("-f, --format <format>", "json, or a Go template")
    .option("-l, --latest", LATEST)
    .argument("[pod]")
    .action(async (
      ref: string | undefined,
      f: { format?: string; latest?: boolean },
    ) => {
      if (ref !== undefined && f.latest) {
        throw invalid("--latest and arguments cannot be used together");
      }
      if (ref === undefined && !f.latest) {
        throw invalid("no names or ids specified");
      }
      const e = userEngine();
      ref ??= latestPod(e).id;
      let doc;
      try {
        doc = await inspectPod(e, ref);
      } catch (err) {
        if (!isKind(err, "not-found")) throw err;
        console.log("[]");
        throw new PtdError(
          "not-found",
          `inspecting object: no such pod ${ref}`,
          125,
        );
      }
      // Podman 4.3 prints one pod as an object, not an array.
      if (!f.format || f.format === "json") {
        return console.log(goJson(doc, "     "));
      }
      await printInspect(f.format, [doc]);
    });
  for (
    const [verb, what, fn] of [
      ["start", "Start one or more pods", startPod],
      ["stop", "Stop one or more pods", stopPod],
      ["restart", "Restart one or more pods", restartPod],
    ] as const
  ) {
    group.command(verb)
      .description(what)
      .option("-a, --all", "all pods")
      .option("-l, --latest", LATEST)
      .argument("[pods...]")
      .action((refs: string[], f: PodSelection) =>
        eachPod(refs, f, (p) => fn(userEngine(), p), setCode, ENGINE_ERROR)
      );
  }
  for (const [verb, freeze] of [["pause", true], ["unpause", false]] as const) {
    group.command(verb)
      .description(`${freeze ? "Pause" : "Unpause"} one or more pods`)
      .option("-a, --all", "all pods")
      .option("-l, --latest", LATEST)
      .argument("[pods...]")
      .action((refs: string[], f: PodSelection) =>
        eachPod(
          refs,
          f,
          (p) => freezePod(userEngine(), p, freeze),
          setCode,
          ENGINE_ERROR,
        )
      );
  }
  group.command("kill")
    .description("Send the specified signal or SIGKILL to containers in a pod")
    .option("-a, --all", "all pods")
    .option("-l, --latest", LATEST)
    .option("-s, --signal <signal>", "signal to send", "KILL")
    .argument("[pods...]")
    .action((refs: string[], f: PodSelection & { signal: string }) => {
      checkSignal(f.signal);
      return eachPod(
        refs,
        f,
        (p) => killPod(userEngine(), p, f.signal),
        setCode,
        ENGINE_ERROR,
      );
    });
  group.command("rm")
    .description("Remove one or more stopped pods and containers")
    .option("-a, --all", "all pods")
    .option("-l, --latest", LATEST)
    .option("-f, --force", "stop running containers first")
    .option("-i, --ignore", "no error for pods that do not exist")
    .option("-t, --time <seconds>", "ignored: ptd kills the containers")
    .argument("[pods...]")
    .action(
      (
        refs: string[],
        f: PodSelection & { force?: boolean; ignore?: boolean },
      ) => {
        const known = f.ignore
          ? refs.filter((r) => podExists(userEngine(), r))
          : refs;
        if (f.ignore && known.length === 0 && !f.all && !f.latest) return;
        return eachPod(
          known,
          f,
          (p) => removePod(userEngine(), p, !!f.force),
          setCode,
        );
      },
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
      setCode(reportFailures(r.errors.map((x) => x.error), REMOVAL));
    });
  group.command("exists")
    .description("Check if a pod exists in local storage")
    .argument("<pod>")
    .action((ref: string) => setCode(podExists(userEngine(), ref) ? 0 : 1));
  group.command("top")
    .description("Display the running processes of containers in a pod")
    .option("-l, --latest", LATEST)
    .argument("[pod]")
    .allowExcessArguments()
    .action(async (ref: string | undefined, f: { latest?: boolean }) => {
      const e = userEngine();
      if (f.latest) {
        try {
          ref = latestPod(e).id;
        } catch (err) {
          throw notFound(
            `unable to look up requested container: ${(err as Error).message}`,
          );
        }
      }
      if (ref === undefined) {
        throw invalid("you must provide the name or id of a running pod");
      }
      let header = true;
      for (const c of await podContainers(e, ref)) {
        try {
          const lines = await topContainer(e, c.id, []);
          lines.slice(header ? 0 : 1).forEach((l) => console.log(l));
          header = false;
        } catch { /* not running */ }
      }
    });
  group.command("logs")
    .description("Fetch logs for pod with one or more containers")
    .argument("<pod>")
    .action(async (ref: string) => {
      const e = userEngine();
      const refs = (await podContainers(e, ref)).map((c) => c.id);
      if (refs.length === 0) return;
      for (const l of await containerLogs(e, { refs }, {})) {
        await printLog(l.records, { prefix: `${l.id.slice(0, 12)} ` });
      }
    });
  return group;
}
