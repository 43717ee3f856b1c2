/** Volume routes: create, list, inspect, remove and prune (local volumes). */
import {
  createVolume,
  inspectVolume,
  listVolumes,
  pruneVolumesUnused,
  removeVolumesByName,
  type VolumeInspect,
} from "../engine/volumes.ts";
import { invalid } from "../runtime/errors.ts";
import { filterArgs, flag, json, jsonBody, noContent } from "./reply.ts";
import type { Route } from "./router.ts";

/** A volume as Docker shows it. */
const dockerVolume = (v: VolumeInspect) => ({
  Name: v.Name,
  Driver: v.Driver,
  Mountpoint: v.Mountpoint,
  CreatedAt: v.CreatedAt,
  Labels: v.Labels ?? {},
  Scope: v.Scope,
  Options: v.Options ?? {},
});

/** The volume routes. */
export const volumeRoutes: Route[] = [
  ["GET", "/volumes", ({ e, req }) =>
    Promise.resolve(json({
      Volumes: listVolumes(e, filterArgs(req)).map(dockerVolume),
      Warnings: [],
    }))],
  ["POST", "/volumes/create", async ({ e, req }) => {
    const body = await jsonBody(req);
    const driver = body.Driver ?? "local";
    if (driver !== "local" && driver !== "") {
      throw invalid(`volume driver ${driver} is not supported`);
    }
    if (body.DriverOpts && Object.keys(body.DriverOpts).length > 0) {
      throw invalid("volume driver options are not supported");
    }
    if (body.Name !== undefined && typeof body.Name !== "string") {
      throw invalid("json: cannot unmarshal Name: a string is required");
    }
    const labels = (body.Labels ?? {}) as Record<string, string>;
    const name = await createVolume(e, body.Name || undefined, labels);
    return json(dockerVolume(inspectVolume(e, name)), 201);
  }],
  ["POST", "/volumes/prune", async ({ e, req }) => {
    const names = await pruneVolumesUnused(e, filterArgs(req));
    return json({ VolumesDeleted: names, SpaceReclaimed: 0 });
  }],
  [
    "GET",
    "/volumes/:name",
    ({ e, params }) =>
      Promise.resolve(json(dockerVolume(inspectVolume(e, params.name)))),
  ],
  ["DELETE", "/volumes/:name", async ({ e, req, params }) => {
    await removeVolumesByName(e, [params.name], flag(req, "force"));
    return noContent();
  }],
];
