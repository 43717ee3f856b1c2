/**
 * The root of a container whose user namespace maps ids otherwise than the
 * layers were unpacked for (see storage/reown.ts): a re-owned copy of the
 * image, made once per image and mapping and shared by the containers that
 * use it, under the container's own upper and work directories, which
 * belong to its root. Loaded only for such containers.
 */
import { fillFromImage } from "../volume/copyup.ts";
import { ensureDir } from "../storage/paths.ts";
import { removeTrees } from "../storage/remove.ts";
import {
  copyPath,
  type OwnerMaps,
  reownTrees,
  sweepTemps,
  tempFor,
} from "../storage/reown.ts";
import { userMaps } from "../runtime/create.ts";
import { toHost } from "../runtime/idmap.ts";
import type { HostConfig } from "./config.ts";
import { readImageFile } from "./image_file.ts";
import { autoRanges, heldRanges, idsNamed, reownMaps } from "./namespaces.ts";
import type { ContainerStore } from "./store.ts";

/** Whether the copy at `path` is there: only a whole one has that name. */
function made(path: string): boolean {
  try {
    return Deno.lstatSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The re-owned copy of the image whose layers are `layers` (top first) for
 * `maps`, made if missing: built under a temp name, renamed into place.
 */
export async function reownedImage(
  layers: string[],
  maps: OwnerMaps,
): Promise<string> {
  const final = await copyPath(layers[0], maps);
  if (made(final)) return final;
  await sweepTemps(final.slice(0, final.lastIndexOf("/")));
  const temp = ensureDir(tempFor(final), 0o755);
  try {
    await fillFromImage(temp, "/", layers);
    await reownTrees("shift", maps, [temp]);
    Deno.renameSync(temp, final);
  } catch (e) {
    await removeTrees([temp]);
    // Another command made it meanwhile: theirs is as good.
    if (!made(final)) throw e;
  }
  return final;
}

/**
 * Removes the re-owned copies in `layersDir` no container of `store` uses
 * now: an auto container's map is its own, so its copy would otherwise
 * outlive it until its image goes. Temps are the sweep's business.
 */
export async function dropUnusedCopies(
  store: ContainerStore,
  layersDir: string,
): Promise<void> {
  const used = new Set<string>();
  for (const c of store.list()) {
    const maps = c.rootfs ? undefined : reownMaps(c.host.userns, userMaps());
    if (maps) used.add(await copyPath(c.layers[0], maps));
  }
  const unused = [...Deno.readDirSync(layersDir)]
    .map((e) => `${layersDir}/${e.name}`)
    .filter((p) => /\.reowned-[0-9a-f]+$/.test(p) && !used.has(p));
  await removeTrees(unused);
}

/** Where such a container's root is mounted: a directory its root owns. */
export function mountPoint(dir: string): string {
  return `${dir}/mnt/merged`;
}

/**
 * Gives the container's root the directories init writes and mounts on
 * (the overlay's upper and work, and the mount point): its namespace may
 * not hold the user, who made them. Checked at each start too (cheaply: the
 * mount point's owner), so that a create killed before this is mended; a
 * vfs copy (`vfsCopy`, at create only) is re-owned as a whole.
 */
export async function ownContainerDirs(
  dir: string,
  maps: OwnerMaps,
  vfsCopy?: string,
): Promise<void> {
  const merged = mountPoint(dir);
  const root = toHost(userMaps().uid, toHost(maps.uid, 0) ?? -1);
  try {
    if (!vfsCopy && Deno.lstatSync(merged).uid === root) return;
  } catch { /* not made yet */ }
  ensureDir(merged, 0o755);
  if (vfsCopy) await reownTrees("shift", maps, [vfsCopy]);
  const own = [`${dir}/mnt`, merged];
  if (!vfsCopy) own.push(`${dir}/upper`, `${dir}/work`);
  await reownTrees("root", maps, own);
}

/**
 * --userns auto: gives `host`'s userns ids no other container's own map
 * holds (a --rootfs directory's are not counted, as in Podman), enough
 * for the image's users and `user` (its -u), and holds a lock until the
 * result is disposed of (once the container is stored), so that two
 * creates at once cannot take the same ids.
 */
export async function holdAutoRange(
  store: ContainerStore,
  host: HostConfig,
  layers: string[],
  user: string,
): Promise<Disposable> {
  const lock = await Deno.open(`${store.paths.data}/userns-auto.lock`, {
    create: true,
    write: true,
    mode: 0o600,
  });
  try {
    await lock.lock(true);
    const base = userMaps();
    const held = store.list().filter((c) => !c.rootfs).map((c) =>
      heldRanges(c.host.userns, base)
    );
    const taken = {
      uid: held.flatMap((h) => h.uid),
      gid: held.flatMap((h) => h.gid),
    };
    const needed = idsNamed(
      readImageFile(layers, "/etc/passwd"),
      readImageFile(layers, "/etc/group"),
      user,
    );
    host.userns = autoRanges(host.userns!, base, taken, needed);
  } catch (e) {
    lock.close();
    throw e;
  }
  return { [Symbol.dispose]: () => lock.close() };
}
