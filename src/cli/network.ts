/**
 * `ptd network create|ls|inspect|rm|prune|exists|connect|disconnect|reload`:
 * parsing, one call of src/engine/networks.ts, printing.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import {
  connectNetwork,
  createNetwork,
  disconnectNetwork,
  inspectNetworkRecord,
  listNetworks,
  networkExists,
  pruneNetworks,
  reloadNetworks,
  removeNetwork,
} from "../engine/networks.ts";
import type { NetworkRecord } from "../network/config.ts";
import { asPtdError, invalid, PtdError } from "../runtime/errors.ts";
import { askToContinue } from "./confirm.ts";
import { goMap, goStruct } from "../runtime/gomap.ts";
import { headers, printReport, printTable } from "./format.ts";
import { collect, parseLabels } from "./options.ts";
import { REMOVAL, reportFailures } from "./targets.ts";

/** `network ls` headers: Podman's. */
const NETWORK_HEADERS = headers("ID Name Driver", { ID: "network id" });

/** `-o mtu=N` and friends, as a map (the engine checks them). */
function parseOpts(list: string[]): Record<string, string> {
  return Object.fromEntries(
    list.map((o) => o.split("=", 2)).map(([k, v = ""]) => [k, v]),
  );
}

/** A network as a template sees it: the Go struct's field names. */
function goFields(n: NetworkRecord) {
  return goStruct({
    Name: n.name,
    ID: n.id,
    Driver: n.driver,
    NetworkInterface: n.network_interface,
    Created: n.created,
    Subnets: n.subnets.map((s) =>
      goStruct({
        Subnet: s.subnet,
        Gateway: s.gateway ?? "",
        LeaseRange: s.lease_range ?? null,
      }, "types.Subnet")
    ),
    IPv6Enabled: n.ipv6_enabled,
    Internal: n.internal,
    DNSEnabled: n.dns_enabled,
    Labels: goMap(n.labels ?? null),
    Options: goMap(n.options ?? null),
    IPAMOptions: goMap(n.ipam_options),
  }, "types.Network");
}

/** The `network` command group. */
export function networkCommand(setCode: (code: number) => void): Command {
  const group = new Command("network").description("Manage networks");
  group.command("create")
    .description("Create a network")
    .option(
      "--subnet <cidr>",
      "subnet, e.g. 10.90.0.0/24 or fd00:1::/64 (repeatable)",
      collect,
      [],
    )
    .option("--gateway <ip>", "gateway address in the subnet", collect, [])
    .option(
      "--ip-range <cidr>",
      "addresses for containers, inside the subnet",
      collect,
      [],
    )
    .option("--internal", "no traffic to or from outside the network")
    .option("--disable-dns", "no DNS server on the network")
    .option("-d, --driver <driver>", "driver (bridge)", "bridge")
    .option(
      "--ipam-driver <driver>",
      "IP Address Management Driver (host-local)",
      "host-local",
    )
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .option("-o, --opt <option>", "driver option (mtu=N)", collect, [])
    .option("--ipv6", "IPv6 addresses too (dual stack)")
    .option("--ignore", "no error when the network exists")
    .argument("[name]", "network name (podmanN if omitted)")
    .action(async (name: string | undefined, f: {
      subnet: string[];
      gateway: string[];
      ipRange: string[];
      internal?: boolean;
      disableDns?: boolean;
      driver: string;
      ipamDriver: string;
      label: string[];
      opt: string[];
      ipv6?: boolean;
      ignore?: boolean;
    }) => {
      if (f.driver !== "bridge") {
        throw invalid(`unsupported driver ${f.driver}: invalid argument`);
      }
      // Podman's netavark also knows none and dhcp (macvlan): ptd's
      // bridges hand out their own addresses only.
      if (f.ipamDriver !== "host-local") {
        throw invalid(`unsupported ipam driver "${f.ipamDriver}"`);
      }
      const r = await createNetwork(userEngine(), {
        name,
        subnet: f.subnet,
        gateway: f.gateway,
        ipRange: f.ipRange,
        internal: f.internal,
        disableDns: f.disableDns,
        labels: parseLabels(f.label),
        options: parseOpts(f.opt),
        ipv6: f.ipv6,
        ignore: f.ignore,
      });
      console.log(r.name);
    });
  group.command("ls")
    .alias("list")
    .description("List networks")
    .option(
      "-f, --filter <filter>",
      "filter output (name, id, label, ...)",
      collect,
      [],
    )
    .option("--format <format>", "json, or a Go template such as {{.Name}}")
    .option("--noheading", "do not print headers")
    .option("-q, --quiet", "print only network names")
    .option("--no-trunc", "do not truncate the network ID")
    .action(async (f: {
      filter: string[];
      format?: string;
      noheading?: boolean;
      quiet?: boolean;
      trunc: boolean;
    }) => {
      const ns = listNetworks(userEngine(), f.filter);
      const id = (n: NetworkRecord) => f.trunc ? n.id.slice(0, 12) : n.id;
      if (f.quiet) return ns.forEach((n) => console.log(n.name));
      if (f.format !== undefined) {
        return await printReport(f.format, ns, {
          name: "ls",
          indent: "  ",
          headers: NETWORK_HEADERS,
          view: (n: NetworkRecord) => ({ ...goFields(n), ID: id(n) }),
        }, f.noheading);
      }
      const h = NETWORK_HEADERS;
      printTable(
        [h.ID, h.Name, h.Driver],
        ns.map((n) => [id(n), n.name, n.driver]),
        f.noheading,
      );
    });
  group.command("inspect")
    .description("Show networks as JSON")
    .argument("<names...>")
    .option("-f, --format <format>", "json, or a Go template such as {{.Name}}")
    .action(async (names: string[], f: { format?: string }) => {
      const e = userEngine();
      const docs = [];
      let missing: PtdError | undefined;
      for (const n of names) {
        try {
          docs.push(inspectNetworkRecord(e, n));
        } catch (err) {
          missing ??= new PtdError(
            asPtdError(err).kind,
            `inspecting object: network ${n}: ${(err as Error).message}`,
            125,
          );
        }
      }
      // Podman prints what it found, then fails for what it did not.
      await printReport(
        f.format || "json",
        docs,
        {
          name: "inspect",
          indent: "     ",
          errorPrefix: "inspecting object: printing inspect output: ",
          view: goFields,
        },
      );
      if (missing) throw missing;
    });
  group.command("rm")
    .alias("remove")
    .description("Remove networks")
    .option("-f, --force", "remove the containers on them first")
    .option("-t, --time <seconds>", "ignored: ptd kills the containers")
    .argument("<names...>")
    .action(async (names: string[], f: { force?: boolean }) => {
      const e = userEngine();
      const errors: unknown[] = [];
      for (const n of names) {
        try {
          console.log(await removeNetwork(e, n, !!f.force));
        } catch (err) {
          errors.push(err);
        }
      }
      setCode(reportFailures(errors, REMOVAL));
    });
  group.command("prune")
    .description("Remove every network no container uses")
    .option("--filter <filter>", "only these (label=KEY=VALUE)", collect, [])
    .option("-f, --force", "do not ask for confirmation")
    .action((f: { force?: boolean; filter: string[] }) => {
      if (
        !f.force && !askToContinue(
          "WARNING! This will remove all networks not used by at least one container.",
        )
      ) return;
      const r = pruneNetworks(userEngine(), f.filter);
      r.removed.forEach((n) => console.log(n));
      setCode(reportFailures(r.errors.map((x) => x.error), REMOVAL));
    });
  group.command("exists")
    .description("Check if network exists")
    .argument("<network>")
    .action((name: string) =>
      setCode(networkExists(userEngine(), name) ? 0 : 1)
    );
  group.command("connect")
    .description("Connect a container to a network")
    .option("--alias <name>", "another DNS name on the network", collect, [])
    .option("--ip <address>", "the IPv4 address on the network")
    .option("--ip6 <address>", "the IPv6 address on the network")
    .argument("<network>")
    .argument("<container>")
    .action(
      (
        net: string,
        ctr: string,
        f: { alias: string[]; ip?: string; ip6?: string },
      ) =>
        connectNetwork(userEngine(), net, ctr, {
          aliases: f.alias,
          ip: f.ip,
          ip6: f.ip6,
        }),
    );
  group.command("disconnect")
    .description("Disconnect a container from a network")
    .option("-f, --force", "accepted, as Podman")
    .argument("<network>")
    .argument("<container>")
    .action((net: string, ctr: string) =>
      disconnectNetwork(userEngine(), net, ctr)
    );
  group.command("reload")
    .description(
      "Make the networking of running containers again (after the holder or their pasta died)",
    )
    .option("-a, --all", "all containers")
    .argument("[containers...]")
    .action(async (refs: string[], f: { all?: boolean }) => {
      const r = await reloadNetworks(userEngine(), { refs, all: f.all });
      r.filter((x) => x.error === undefined).forEach((x) => console.log(x.id));
      setCode(reportFailures(r.map((x) => x.error)));
    });
  return group;
}
