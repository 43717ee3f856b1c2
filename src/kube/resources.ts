/**
 * A container's `resources` as ptd's limits: limits.memory as --memory,
 * limits.cpu as --cpus, requests.memory as --memory-reservation, from
 * Kubernetes quantities ("128Mi", "500m", "1.5").
 */
import type { Resources } from "../cgroup/resources.ts";
import { invalid } from "../runtime/errors.ts";
import type { IContainer } from "kubernetes-models/v1/Container";

/** Kubernetes' quantity suffixes: binary, decimal, and milli. */
const UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  m: 1e-3,
  "": 1,
};

/** A quantity ("256Mi", "0.5", "100m", 2) as a number; `at` names it. */
export function quantity(q: string | number, at: string): number {
  if (typeof q === "number") return q;
  const m =
    /^(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/
      .exec(q.trim());
  if (!m) throw invalid(`${at}: ${JSON.stringify(q)} is not a quantity`);
  return Number(m[1]) * UNITS[m[2] ?? ""];
}

/** The limits `c` asks for, or undefined when it asks for none. */
export function resourcesOf(c: IContainer): Resources | undefined {
  const at = `container ${c.name}: resources`;
  const { limits = {}, requests = {} } = c.resources ?? {};
  const r: Resources = {};
  const bytes = (q: string | number, path: string) =>
    Math.round(quantity(q, `${at}.${path}`));
  if (limits.memory !== undefined) {
    r.memory = bytes(limits.memory, "limits.memory");
  }
  if (limits.cpu !== undefined) {
    r.nanoCpus = Math.round(quantity(limits.cpu, `${at}.limits.cpu`) * 1e9);
  }
  if (requests.memory !== undefined) {
    r.memoryReservation = bytes(requests.memory, "requests.memory");
  }
  return Object.keys(r).length > 0 ? r : undefined;
}
