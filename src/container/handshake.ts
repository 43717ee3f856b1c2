/**
 * What the CLI and a container's monitor agree on, apart from the monitor's
 * code: the CLI that starts a container loads none of it.
 */

/** The hidden subcommand that runs a monitor. */
export const MONITOR_COMMAND = "monitor";

/** What the monitor tells the CLI once the first start is decided. */
export interface Handshake {
  ok: boolean;
  pid?: number;
  code?: number;
  message?: string;
}
