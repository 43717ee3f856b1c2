/**
 * The engine's `commit`: a container's changes (its overlay upper dir) as
 * a new layer over its image, with the container's settings as the new
 * image's defaults and Dockerfile-style changes on top.
 */
import { applyConfigStep } from "../build/config_steps.ts";
import { parseContainerfile } from "../build/containerfile.ts";
import { storeNewImage } from "../build/image_writer.ts";
import { writeUpperLayer } from "../build/layer_pack.ts";
import type { ContainerConfig } from "../container/config.ts";
import { exportContainer } from "../container/cp.ts";
import type { ContainerDefaults } from "../image/oci.ts";
import { localName } from "../image/reference.ts";
import { type ImageRecord, ImageStore } from "../image/store.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { containerStore, findContainer } from "./listing.ts";

/** What `commit` is asked for (Podman's flags). */
export interface CommitRequest {
  /** The new image's name; none: dangling. */
  name?: string;
  /** -c: Dockerfile instructions applied to the config. */
  changes?: string[];
  message?: string;
  author?: string;
  /** --format docker: Docker's media types. */
  docker?: boolean;
  /** --squash: one layer with the whole tree. */
  squash?: boolean;
  /** --include-volumes: every volume and bind of the container as a VOLUME. */
  includeVolumes?: boolean;
}

/** The commit -c keywords (Podman's list). */
const CHANGE_KEYWORDS = [
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
];

/** `base` with the `--change` instructions applied. */
export function applyChanges(
  base: ContainerDefaults,
  changes: string[],
): ContainerDefaults {
  const c = structuredClone(base);
  const vars = new Map(
    (c.Env ?? []).map((
      e,
    ) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  for (const change of changes) {
    const keyword = change.trim().split(/\s+/)[0]?.toUpperCase();
    if (!CHANGE_KEYWORDS.includes(keyword)) {
      throw invalid(
        `invalid change "${change}" - invalid instruction ${keyword}`,
      );
    }
    const [inst] =
      parseContainerfile(`FROM scratch\n${change}\n`, "--change").stages[0]
        .steps;
    applyConfigStep(c, inst, vars, "\\", "--change");
  }
  return c;
}

/** The image defaults a container was created with. */
function containerDefaults(
  c: ContainerConfig,
  img: ImageRecord | undefined,
  includeVolumes: boolean,
): ContainerDefaults {
  const base = img?.config.config ?? {};
  // As Podman commits: the container's anonymous volumes become VOLUMEs,
  // with --include-volumes every volume and bind the user gave.
  const volumes = (c.mounts ?? []).filter((m) =>
    (m.type === "volume" && m.anonymous) ||
    (includeVolumes && (m.type === "volume" || m.type === "bind"))
  ).map((m) => m.destination);
  return {
    ...base,
    ...(volumes.length > 0
      ? {
        Volumes: {
          ...base.Volumes,
          ...Object.fromEntries(volumes.map((d) => [d, {}])),
        },
      }
      : {}),
    Env: c.env,
    Cmd: c.cmd.length ? c.cmd : null,
    Entrypoint: c.entrypoint.length ? c.entrypoint : null,
    WorkingDir: c.workdir,
    User: c.user,
    Labels: { ...base.Labels, ...c.labels },
  };
}

/** Commits container `ref` as a new image; returns its record. */
export async function commitContainer(
  e: Engine,
  ref: string,
  req: CommitRequest = {},
): Promise<ImageRecord> {
  const c = findContainer(e, ref);
  if (c.rootfs) {
    throw invalid(
      `${c.name}: a --rootfs container has no image to commit onto`,
    );
  }
  if (c.storageDriver === "vfs" && !req.squash) {
    throw invalid(
      `${c.name}: commit of a vfs container needs --squash (its root is one full copy)`,
    );
  }
  const images = e.store(ImageStore);
  const base = images.get(c.imageId);
  const config = applyChanges(
    containerDefaults(c, base, !!req.includeVolumes),
    req.changes ?? [],
  );
  const store = containerStore(e);
  const layer = images.blobs.tempPath();
  try {
    if (req.squash) {
      const f = await Deno.open(layer, { write: true, createNew: true });
      try {
        await exportContainer(store, c, f);
      } finally {
        f.close();
      }
    } else await writeUpperLayer(`${store.dir(c.id)}/upper`, layer, true);
    return await storeNewImage(images, {
      base,
      squash: req.squash,
      layer,
      config,
      history: {
        created_by: `/bin/sh -c #(nop) ptd commit ${c.name}`,
        ...(req.message ? { comment: req.message } : {}),
      },
      author: req.author,
      names: req.name ? [localName(req.name)] : [],
      docker: req.docker,
    });
  } finally {
    await Deno.remove(layer).catch(() => {});
  }
}
