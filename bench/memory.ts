/**
 * Memory as the kernel accounts it: PSS (proportional set size) from
 * /proc/PID/smaps_rollup, which splits shared pages among the processes that
 * map them, so the sum over processes is the memory they really cost.
 */

/** PSS of `pid` in MB (smaps_rollup counts in kB). */
export function pssMB(pid: number): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const m = text.match(/^Pss:\s+(\d+) kB/m);
  if (!m) throw new Error(`no Pss in /proc/${pid}/smaps_rollup`);
  return Number(m[1]) / 1024;
}

/** The parent pid of `pid`, from /proc/PID/stat (after the comm field). */
export function parentOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const ppid = parentOf(pid);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch { /* exited while we looked */ }
  }
  const tree: number[] = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    tree.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Total PSS in MB of `root` and its descendants. */
export function treePssMB(root: number): number {
  return processTree(root).reduce((sum, pid) => {
    try {
      return sum + pssMB(pid);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return sum; // exited meanwhile
      throw e;
    }
  }, 0);
}
