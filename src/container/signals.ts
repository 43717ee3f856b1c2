/** Signal names and numbers as `kill -s`, `--stop-signal` and `stop` take them. */
import { invalid } from "../runtime/errors.ts";
import { signalProcess } from "../runtime/create.ts";

const NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** "SIGTERM", "term", "15" -> 15; throws on anything else. */
export function parseSignal(sig: string): number {
  const s = sig.trim().toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 64) return Number(s);
  const n = NUMBERS[s];
  if (n === undefined) throw invalid(`invalid signal: ${sig}`);
  return n;
}

const RELAYED: Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * Passes the signals a terminal or `kill` sends the CLI on to `pid`, the
 * process it stands for; returns the function that stops relaying.
 */
export function relaySignals(pid: number): () => void {
  const offs = RELAYED.map((sig) => {
    const fn = () => signalProcess(pid, parseSignal(sig));
    Deno.addSignalListener(sig, fn);
    return () => Deno.removeSignalListener(sig, fn);
  });
  return () => offs.forEach((off) => off());
}
