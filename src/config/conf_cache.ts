/**
 * containers.conf for every create, without parsing it every time: Podman's
 * own file is 24 KB, mostly comments, and parsing it (with loading the TOML
 * module) cost ~7 ms of each `run`. The parsed result is kept in the
 * runtime directory, keyed by each file's path, size, mtime and inode, so
 * any change, or a file appearing or going, makes a new key. The parser's
 * own module is part of the key: a ptd that reads more of the file must not
 * take an older ptd's result.
 */
import { lazy, repoPath } from "../runtime/lazy.ts";
import { readJson, writeJsonAtomic } from "../storage/json.ts";
import { containersConfFiles } from "./conf_files.ts";
import type { ContainersConf } from "./containers_conf.ts";

const PARSER = "src/config/containers_conf.ts";

/** What identifies the files' contents without reading them. */
function fingerprint(files: string[]): string {
  return files.map((f) => {
    try {
      const s = Deno.statSync(f);
      return `${f}:${s.size}:${s.mtime?.getTime()}:${s.ino}`;
    } catch {
      return `${f}:-`;
    }
  }).join("\n");
}

/** containers.conf as loadContainersConf reads it, cached in `cacheFile`. */
export async function cachedContainersConf(
  cacheFile: string,
  files: string[] = containersConfFiles(),
): Promise<ContainersConf> {
  const key = fingerprint([...files, repoPath(PARSER)]);
  try {
    const hit = readJson<{ key: string; conf: ContainersConf }>(cacheFile);
    if (hit?.key === key) return hit.conf;
  } catch { /* unreadable: parse again */ }
  const { loadContainersConf } = await lazy<
    typeof import("./containers_conf.ts")
  >(PARSER);
  const conf = loadContainersConf(files);
  try {
    writeJsonAtomic(cacheFile, { key, conf });
  } catch { /* no runtime dir yet: next time */ }
  return conf;
}
