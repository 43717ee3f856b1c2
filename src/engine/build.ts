/**
 * The engine's `build`: the context opened, the Containerfile parsed, and
 * the builder (src/build) given what it needs containers for, through the
 * same creation and run path as `ptd run`. Every container a step makes is
 * removed when the step ends, whatever happened; a failed build leaves no
 * container and no mount, only the step images before the failure (which
 * a rebuild reuses, as Podman's do).
 */
import { Builder, type BuildHost, type RunSpec } from "../build/builder.ts";
import { parseContainerfile } from "../build/containerfile.ts";
import { openContext, readContainerfile } from "../build/context.ts";
import { annotateImage } from "../build/image_writer.ts";
import { landLayer, writeUpperLayer } from "../build/layer_pack.ts";
import {
  type ContainerConfig,
  type ContainerMount,
  plainHost,
} from "../container/config.ts";
import { tarFrom } from "../container/cp.ts";
import { removeContainer } from "../container/lifecycle.ts";
import { monitorAlive } from "../container/liveness.ts";
import { removeStored } from "../container/volumes.ts";
import { MediaType } from "../image/oci.ts";
import { localName } from "../image/reference.ts";
import { unpackLayer } from "../image/unpack.ts";
import { ensureImage, type PullPolicy } from "../image/resolve.ts";
import { type ImageRecord, ImageStore } from "../image/store.ts";
import { invalid, isKind } from "../runtime/errors.ts";
import { ensureDir } from "../storage/paths.ts";
import { createContainer, networkSettings, runContainer } from "./create.ts";
import type { Engine } from "./engine.ts";
import { imageUsers } from "./images.ts";
import { containerStore } from "./listing.ts";

/** What `build` is asked for (Podman's flags, parsed). */
export interface BuildRequest {
  /** A directory, a tarball, or "-" for a tarball on stdin. */
  context: string;
  /** -f: the Containerfile (a path, or "-" for stdin). */
  file?: string;
  tags: string[];
  buildArgs: Map<string, string>;
  target?: string;
  noCache?: boolean;
  /** --layers (default true): keep and reuse step images. */
  layers?: boolean;
  /** --pull: always, missing, never or newer. */
  pull?: string;
  squash?: "new" | "all";
  labels?: Record<string, string>;
  /** --annotation: put in the image's manifest. */
  annotations?: Record<string, string>;
  docker?: boolean;
  network?: string;
  volumes?: ContainerMount[];
  /** --secret id=ID,src=FILE. */
  secrets?: Map<string, string>;
  cacheTtlMs?: number;
  timestamp?: Date;
  /** Hears each progress line (STEP ..., --> ID). */
  say?: (line: string) => void;
  /** -q: RUN steps' standard output is not shown (their errors are). */
  quiet?: boolean;
  /** Takes what RUN steps print (default: this process's stdout, stderr). */
  output?: (chunk: Uint8Array) => Promise<void>;
  /** `file` is a path in the context, not in the working directory. */
  fileInContext?: boolean;
}

/**
 * Where a build marks the step containers it made (an empty file each,
 * named by id, while the step runs): a build killed outright leaves its
 * mark, and the next build removes what it names (sweepDeadSteps).
 */
const stepsDir = (e: Engine) => `${e.paths.data}/build-steps`;

/**
 * Removes the step containers of builds that died (their parent, the
 * build, is gone) and their marks. One small directory read when there
 * are none: the cache-hit path stays as fast.
 */
async function sweepDeadSteps(e: Engine): Promise<void> {
  let ids: string[];
  try {
    ids = [...Deno.readDirSync(stepsDir(e))].map((d) => d.name);
  } catch {
    return;
  }
  const store = containerStore(e);
  for (const id of ids) {
    if (monitorAlive(store.state(id))) continue;
    try {
      await removeContainer(store, store.find(id), true);
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
    }
    await Deno.remove(`${stepsDir(e)}/${id}`).catch(() => {});
  }
}

/** The BuildHost over engine `e`: steps run in real ptd containers. */
function buildHost(
  e: Engine,
  { say = () => {}, output, quiet = false }: Pick<
    BuildRequest,
    "say" | "output" | "quiet"
  >,
): BuildHost {
  const images = e.store(ImageStore);
  const store = containerStore(e);
  /** Runs `fn` with a new container of `img`, removed afterwards. */
  const withContainer = async <T>(
    img: ImageRecord,
    spec: Partial<RunSpec>,
    fn: (c: ContainerConfig) => Promise<T>,
  ): Promise<T> => {
    const c = await createContainer(e, {
      build: true,
      image: img.id,
      pull: "never",
      command: spec.argv ?? ["/bin/sh"],
      entrypoint: spec.argv ? [] : undefined,
      env: spec.env ?? [],
      labels: {},
      mounts: spec.mounts,
      parent: true,
      host: {
        ...plainHost(),
        ...networkSettings(spec.network),
        // Podman runs no health checks during a build.
        healthcheck: { Test: ["NONE"] },
      },
    });
    const mark = `${stepsDir(e)}/${c.id}`;
    try {
      ensureDir(stepsDir(e));
      Deno.writeFileSync(mark, new Uint8Array());
      return await fn(c);
    } finally {
      await removeStored(store, c, true);
      await Deno.remove(mark).catch(() => {});
    }
  };
  /** Writes the tar of `path` in image `img` (`cp`'s or `export`'s) to `out`. */
  const tarOf = (
    img: ImageRecord,
    mode: "out" | "export",
    path: string,
    out: string,
  ) =>
    withContainer(img, {}, async (c) => {
      const f = await Deno.open(out, { write: true, createNew: true });
      try {
        await tarFrom(store, c, mode, path, f);
      } finally {
        f.close();
      }
    });
  const upperLayer = async (c: ContainerConfig, skipInit: boolean) => {
    const out = images.blobs.tempPath();
    await writeUpperLayer(`${store.dir(c.id)}/upper`, out, skipInit);
    return out;
  };
  return {
    store: images,
    say,
    tempPath: () => images.blobs.tempPath(),
    discard: async (ids) => {
      for (const id of ids) await images.delete(id);
      // Not the temp files: a build running beside this one has its own.
      await images.collectGarbage(imageUsers(e).layersInUse(), false);
    },
    baseImage: (ref, pull) => ensureImage(images, ref, pull as PullPolicy),
    run: (img, spec) =>
      withContainer(img, spec, async (c) => {
        if (c.storageDriver === "vfs") {
          // A vfs root is a whole copy: there is no upper dir to commit.
          throw invalid(
            "build with the vfs storage driver is not supported: RUN steps are committed from an overlay upper dir",
          );
        }
        const code = await runContainer(e, c, {
          kind: "foreground",
          streams: quiet ? ["stderr"] : undefined,
          output: output && ((_, chunk) => output(chunk)),
        });
        return code === 0
          ? { code, layer: await upperLayer(c, true) }
          : { code };
      }),
    land: async (img, files) => {
      const out = images.blobs.tempPath();
      await landLayer(
        images.lowerDirs(img),
        files,
        images.blobs.tempPath(),
        out,
      );
      return out;
    },
    extract: (img, path, out) => tarOf(img, "out", path, out),
    snapshot: async (img, path) => {
      const tar = images.blobs.tempPath();
      const dir = images.blobs.tempPath();
      const whole = path === "/";
      try {
        await tarOf(img, whole ? "export" : "out", path, tar);
        await unpackLayer(tar, MediaType.ociLayer, dir);
      } finally {
        await Deno.remove(tar).catch(() => {});
      }
      return {
        dir,
        path: whole ? dir : `${dir}/${path.split("/").pop()}`,
      };
    },
  };
}

/**
 * Builds the image `req` describes and names it with its tags; returns
 * it. `say` hears the progress.
 */
export async function buildImage(
  e: Engine,
  req: BuildRequest,
): Promise<ImageRecord> {
  const images = e.store(ImageStore);
  const names = req.tags.map(localName);
  await sweepDeadSteps(e);
  if (req.context === "-" && req.file === "-") {
    throw invalid(
      "the context and the Containerfile cannot both come from stdin",
    );
  }
  const ctx = await openContext(
    req.context,
    `${images.blobs.root}/tmp`,
    req.fileInContext ? undefined : req.file,
  );
  try {
    const cf = await readContainerfile(
      ctx,
      req.fileInContext && req.file ? `${ctx.dir}/${req.file}` : req.file,
    );
    const containerfile = parseContainerfile(cf.text, cf.name);
    const builder = new Builder(buildHost(e, req), {
      containerfile,
      context: ctx,
      buildArgs: req.buildArgs,
      target: req.target,
      noCache: !!req.noCache,
      layers: req.layers ?? true,
      pull: req.pull ?? "missing",
      squash: req.squash,
      labels: req.labels ?? {},
      docker: !!req.docker,
      network: req.network,
      volumes: req.volumes ?? [],
      secrets: req.secrets ?? new Map(),
      cacheTtlMs: req.cacheTtlMs,
      timestamp: req.timestamp,
    });
    let img = await builder.build();
    if (Object.keys(req.annotations ?? {}).length > 0) {
      img = await annotateImage(images, img, req.annotations!);
    }
    for (const n of names) await images.tag(img.id, n);
    return images.get(img.id) ?? img;
  } finally {
    await ctx.cleanup();
  }
}
