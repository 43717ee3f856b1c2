/**
 * --device for a rootless container: no mknod in a user namespace, so each
 * device node is bound from the host, as rootless Podman does; the access
 * mode (rwm) is a cgroup rule a rootless user cannot set, so it is only
 * checked. A directory brings every device node under it.
 */
import { invalid } from "../runtime/errors.ts";

/** A host device node and where the container sees it. */
export interface DeviceMapping {
  source: string;
  destination: string;
}

function isDeviceNode(info: Deno.FileInfo): boolean {
  return !!info.isCharDevice || !!info.isBlockDevice;
}

function nodesUnder(dir: string, into: string): DeviceMapping[] {
  const out: DeviceMapping[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const source = `${dir}/${e.name}`, destination = `${into}/${e.name}`;
    const info = Deno.lstatSync(source);
    if (info.isDirectory) out.push(...nodesUnder(source, destination));
    else if (isDeviceNode(info)) out.push({ source, destination });
  }
  return out;
}

/**
 * Parses one --device value, HOST[:CONTAINER][:MODE], and finds its nodes
 * on the host, with Podman's errors.
 */
export function parseDevice(value: string): DeviceMapping[] {
  const parts = value.split(":");
  const source = parts[0];
  let destination = source, mode = "rwm";
  if (parts.length === 3) [, destination, mode] = parts;
  else if (parts.length === 2) {
    if (parts[1].startsWith("/")) destination = parts[1];
    else mode = parts[1];
  } else if (parts.length > 3) {
    throw invalid(`invalid device specification: ${value}`);
  }
  if (!/^[rwm]{1,3}$/.test(mode)) {
    throw invalid(`invalid device mode: ${mode}`);
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(source);
  } catch {
    throw invalid(`stat ${source}: no such file or directory`);
  }
  if (info.isDirectory) return nodesUnder(source, destination);
  if (!isDeviceNode(info)) {
    throw invalid(`${source} is not a valid device: not a device node`);
  }
  return [{ source, destination }];
}
