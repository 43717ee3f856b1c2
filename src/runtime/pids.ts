/**
 * Whether a process still runs, for the files named after their writer's
 * pid (temps, unfinished copies) that only a dead writer's successor may
 * remove.
 */

/** Whether process `pid` exists (a zombie counts: it has not been reaped). */
export function pidExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
