/**
 * What the CLI and a container's monitor agree on, apart from the monitor's
 * code: the CLI that starts a container loads none of it.
 */

/** The hidden subcommand that runs a monitor. */
export const MONITOR_COMMAND = "monitor";

import type { ErrorData } from "../runtime/errors.ts";

/**
 * What the monitor tells the CLI once the first start is decided, as one
 * JSON line: `{"ok":true,"pid":N}`, or `{"ok":false,"error":{"kind":...,
 * "message":...,"exitCode":N}}` (PtdError.toData()).
 */
export interface Handshake {
  ok: boolean;
  pid?: number;
  error?: ErrorData;
}
