/**
 * Building a Containerfile: the stages the target needs, each instruction
 * a step that makes an image (a layer for RUN, COPY and ADD; the config
 * alone for the rest), each looked up in the build cache first. What needs
 * a container (RUN) or the image's files (landing COPY's files over them,
 * COPY --from) goes through a BuildHost, which the engine gives:
 * containers are made by the same code as `ptd run`'s, and this module
 * never makes one itself.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { ContainerMount } from "../container/config.ts";
import { fileHead, layerTar, sniffCompression } from "../image/unpack.ts";
import type { ContainerDefaults, HistoryEntry } from "../image/oci.ts";
import type { ImageRecord, ImageStore } from "../image/store.ts";
import { digestHex, digestOf } from "../storage/blobs.ts";
import { invalid, PtdError } from "../runtime/errors.ts";
import { globMatch } from "../runtime/glob.ts";
import { isOpaque, isWhiteout } from "../storage/overlay_upper.ts";
import { removeTrees } from "../storage/remove.ts";
import { BuildCache } from "./cache.ts";
import { applyConfigStep, DEFAULT_SHELL, resolvePath } from "./config_steps.ts";
import {
  atLine,
  type Containerfile,
  flag,
  type Instruction,
  lineError,
  parseContainerfile,
  type Stage,
} from "./containerfile.ts";
import {
  type BuildContext,
  contextSources,
  type Source,
  sourcesDigest,
  sourceTree,
} from "./context.ts";
import { CopyTar, type Owner, tarXattrs } from "./copy_tar.ts";
import { storeNewImage } from "./image_writer.ts";
import {
  execForm,
  expandWord,
  expandWords,
  keyValues,
  type Vars,
} from "./words.ts";

/** What a RUN step asks of its container. */
export interface RunSpec {
  argv: string[];
  /** Build arguments, on top of the image's Env. */
  env: string[];
  network?: string;
  mounts: ContainerMount[];
}

/** What the builder needs a container engine for. */
export interface BuildHost {
  store: ImageStore;
  /** The image FROM names, pulled as the policy says. */
  baseImage(ref: string, pull: string): Promise<ImageRecord>;
  /**
   * Runs a RUN step in a container of `img`; its exit code and, when 0,
   * a layer tar of its changes. The container is gone when it returns.
   */
  run(
    img: ImageRecord,
    spec: RunSpec,
  ): Promise<{ code: number; layer?: string }>;
  /**
   * Lands the tar file `files` at "/" over the image `img` (overlay's
   * copy-up keeps every directory on the way as the image has it); the
   * changes as a layer tar.
   */
  land(img: ImageRecord, files: string): Promise<string>;
  /** Writes the tree at `path` of image `img` to the new tar file `out`. */
  extract(img: ImageRecord, path: string, out: string): Promise<void>;
  /**
   * A new directory holding a copy of the tree at `path` of image `img`,
   * owners kept (what `RUN --mount=type=bind,from=` binds); the path of
   * the copy of `path` in it. `removeTrees` of the directory undoes it.
   */
  snapshot(
    img: ImageRecord,
    path: string,
  ): Promise<{ dir: string; path: string }>;
  /**
   * Deletes the images `ids` (step images a build without --layers made)
   * and the layers and blobs nothing else uses.
   */
  discard(ids: string[]): Promise<void>;
  /** A fresh temp path beside the blobs. */
  tempPath(): string;
  /** A progress line (STEP ..., --> id). */
  say(line: string): void;
}

/** A build's settings (Podman's flags). */
export interface BuildOptions {
  containerfile: Containerfile;
  context: BuildContext;
  buildArgs: Map<string, string>;
  target?: string;
  /** Use no cached step (still record the new ones). */
  noCache: boolean;
  /** Keep and use step images (--layers, default true). */
  layers: boolean;
  pull: string;
  /** --squash: this build's layers as one; "all": every layer as one. */
  squash?: "new" | "all";
  labels: Record<string, string>;
  docker: boolean;
  network?: string;
  volumes: ContainerMount[];
  secrets: Map<string, string>;
  cacheTtlMs?: number;
  timestamp?: Date;
}

/** Where a stage stands while its steps run. */
interface StageState {
  stage: Stage;
  /** The FROM image (undefined: scratch). */
  base?: ImageRecord;
  image?: ImageRecord;
  config: ContainerDefaults;
  author?: string;
  vars: Vars;
  /** Declared ARGs with their values: RUN sees them in its environment. */
  args: Map<string, string>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** The history comment: "FROM <parent>". */
  comment: string;
}

/** Docker's predefined ARGs, usable without a declaration of their value. */
function platformArgs(): Map<string, string> {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  return new Map([
    ["TARGETPLATFORM", `linux/${arch}`],
    ["TARGETOS", "linux"],
    ["TARGETARCH", arch],
    ["TARGETVARIANT", ""],
    ["BUILDPLATFORM", `linux/${arch}`],
    ["BUILDOS", "linux"],
    ["BUILDARCH", arch],
    ["BUILDVARIANT", ""],
  ]);
}

/** The env vars of a config, as a map. */
function envVars(c: ContainerDefaults): Vars {
  const m: Vars = new Map();
  for (const e of c.Env ?? []) {
    const i = e.indexOf("=");
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? "" : e.slice(i + 1));
  }
  return m;
}

const clone = <T>(v: T): T => structuredClone(v);

/** A Containerfile build. */
export class Builder {
  private readonly cache: BuildCache;
  private readonly file: Containerfile;
  private readonly globals: Vars;
  private readonly built = new Map<number, ImageRecord | undefined>();
  private readonly stages: Stage[];
  /** Ids of the images this build stored (--layers=false discards them). */
  private readonly made: string[] = [];
  /** The step being run in the current stage, and how many it has. */
  private step = 0;
  private total = 0;

  constructor(
    private readonly host: BuildHost,
    private readonly opts: BuildOptions,
  ) {
    this.file = opts.containerfile;
    this.cache = new BuildCache(host.store, host.store.paths.data);
    this.globals = new Map(platformArgs());
    for (const inst of this.file.globalArgs) {
      for (
        const [k, v] of keyValues(
          inst.args,
          this.globals,
          this.file.escape,
          true,
        )
      ) {
        this.globals.set(k, opts.buildArgs.get(k) ?? v ?? "");
      }
    }
    this.stages = this.needed();
  }

  /** The stage `ref` (a name or an index) names, if any. */
  private stageOf(ref: string, before: number): Stage | undefined {
    const r = ref.toLowerCase();
    const all = this.file.stages.slice(0, before);
    return all.find((s) => s.name === r) ??
      (/^\d+$/.test(r) ? all[Number(r)] : undefined);
  }

  /** The FROM image of `s`, ARGs expanded. */
  private fromRef(s: Stage): string {
    return expandWord(
      s.from.args.trim().split(/\s+/)[0],
      this.globals,
      this.file.escape,
    );
  }

  /** The target stage and the stages it needs, in order. */
  private needed(): Stage[] {
    const stages = this.file.stages;
    let target = stages.at(-1)!;
    if (this.opts.target !== undefined) {
      const t = stages.find((s) => s.name === this.opts.target!.toLowerCase());
      if (!t) throw invalid(`target stage "${this.opts.target}" not found`);
      target = t;
    }
    const want = new Set<number>();
    const visit = (s: Stage) => {
      if (want.has(s.index)) return;
      want.add(s.index);
      const from = this.stageOf(this.fromRef(s), s.index);
      if (from) visit(from);
      for (const inst of s.steps) {
        const refs = [
          flag(inst, "from"),
          ...mountOptions(inst).map((o) => o.get("from")),
        ];
        for (const ref of refs) {
          const dep = ref === undefined
            ? undefined
            : this.stageOf(ref, s.index);
          if (dep) visit(dep);
        }
      }
    };
    visit(target);
    return stages.filter((s) => want.has(s.index));
  }

  /**
   * Runs the build; returns the target stage's image. Without --layers,
   * as Podman's, only that image is left: the stage's changes as one
   * layer over its base, and no step image.
   */
  async build(): Promise<ImageRecord> {
    if (this.opts.layers) return await this.buildAll();
    let last: ImageRecord | undefined;
    try {
      last = await this.buildAll();
      return last;
    } finally {
      await this.host.discard(this.made.filter((id) => id !== last?.id));
    }
  }

  private async buildAll(): Promise<ImageRecord> {
    let last: ImageRecord | undefined;
    let lastState: StageState | undefined;
    for (const s of this.stages) {
      const state = await this.buildStage(s);
      this.built.set(s.index, state.image);
      last = state.image;
      lastState = state;
    }
    if (!lastState) throw invalid("nothing to build");
    if (Object.keys(this.opts.labels).length > 0) {
      const text = `LABEL ${
        Object.entries(this.opts.labels).map(([k, v]) =>
          `${JSON.stringify(k)}=${JSON.stringify(v)}`
        ).join(" ")
      }`;
      lastState.config.Labels = {
        ...lastState.config.Labels,
        ...this.opts.labels,
      };
      await this.configStep(lastState, {
        keyword: "LABEL",
        line: 0,
        flags: [],
        args: "",
        heredocs: [],
        text,
      }, true);
      last = lastState.image;
    }
    const squash = this.opts.squash ??
      (this.opts.layers || last === lastState.base ? undefined : "new");
    if (squash) last = await this.squash(lastState, squash);
    if (!last) {
      throw invalid("the target stage is empty (FROM scratch with no content)");
    }
    return last;
  }

  /** The image of the whole target as one layer over its base (or alone). */
  private async squash(
    s: StageState,
    how: "new" | "all",
  ): Promise<ImageRecord> {
    const img = s.image!;
    const keep = how === "all" || !s.base ? 0 : s.base.manifest.layers.length;
    const out = new CopyTar(this.host.tempPath());
    try {
      for (const d of img.manifest.layers.slice(keep)) {
        const path = this.host.store.blobs.path(d.digest);
        const open = () =>
          sniffCompression(path) === "none"
            ? createReadStream(path)
            : layerTar(path, d.mediaType);
        // Read twice: once for the xattrs, which tar-stream cannot read.
        const xattrs = await tarXattrs(open());
        await out.from(open(), (n) => n, undefined, undefined, xattrs);
      }
      await out.finish();
    } catch (e) {
      await out.abort();
      throw e;
    }
    return await storeNewImage(this.host.store, {
      base: keep ? s.base : undefined,
      squash: keep === 0,
      layer: out.path,
      config: img.config.config ?? {},
      history: {
        created_by: "/bin/sh -c #(nop) squashed",
        comment: "squashed",
      },
      author: s.author,
      docker: this.opts.docker,
      created: this.opts.timestamp,
    });
  }

  /** Podman's progress line of a step: `[stage/stages] STEP n/total: ...`. */
  private header(s: Stage, inst: Instruction): string {
    this.step++;
    const many = this.stages.length > 1;
    const prefix = many
      ? `[${this.stages.indexOf(s) + 1}/${this.stages.length}] `
      : "";
    return `${prefix}STEP ${this.step}/${this.total}: ${inst.text}`;
  }

  private async buildStage(s: Stage): Promise<StageState> {
    // The target's steps count the --label step Podman adds at the end.
    const labelled = s === this.stages.at(-1) &&
      Object.keys(this.opts.labels).length > 0;
    this.step = 0;
    this.total = 1 + s.steps.length + (labelled ? 1 : 0);
    this.host.say(this.header(s, s.from));
    const ref = this.fromRef(s);
    const earlier = this.stageOf(ref, s.index);
    let base: ImageRecord | undefined;
    if (earlier) base = this.built.get(earlier.index);
    else if (ref.toLowerCase() !== "scratch") {
      try {
        base = await this.host.baseImage(ref, this.opts.pull);
      } catch (e) {
        throw atLine(e, this.file.file, s.from.line);
      }
    }
    const config = clone(base?.config.config ?? {});
    const triggers = config.OnBuild ?? [];
    delete config.OnBuild;
    const state: StageState = {
      stage: s,
      base,
      image: base,
      config,
      author: base?.config.author,
      vars: new Map([...envVars(config)]),
      args: new Map(),
      cmdSet: false,
      comment: `FROM ${ref}`,
    };
    if (triggers.length > 0) {
      const parsed = parseContainerfile(
        `FROM scratch\n${triggers.join("\n")}\n`,
        `${this.file.file} (ONBUILD of ${ref})`,
      ).stages[0].steps;
      this.total += parsed.length;
      for (const t of parsed) {
        this.host.say(this.header(s, t));
        await this.runStep(state, { ...t, line: s.from.line });
      }
    }
    for (const inst of s.steps) {
      this.host.say(this.header(s, inst));
      await this.runStep(state, inst);
    }
    return state;
  }

  private async runStep(s: StageState, inst: Instruction): Promise<void> {
    try {
      switch (inst.keyword) {
        case "RUN":
          return await this.runInstruction(s, inst);
        case "COPY":
        case "ADD":
          return await this.copyInstruction(s, inst);
        case "ARG":
          return await this.argInstruction(s, inst);
        case "MAINTAINER":
          s.author = inst.args.trim();
          return await this.configStep(s, inst);
        case "ENTRYPOINT":
          applyConfigStep(
            s.config,
            inst,
            s.vars,
            this.file.escape,
            this.file.file,
          );
          if (!s.cmdSet) s.config.Cmd = null;
          return await this.configStep(s, inst);
        case "CMD":
          s.cmdSet = true;
          break;
        case "FROM":
          throw lineError(
            this.file.file,
            inst.line,
            "FROM isn't allowed as an ONBUILD trigger",
          );
      }
      applyConfigStep(s.config, inst, s.vars, this.file.escape, this.file.file);
      await this.configStep(s, inst);
    } catch (e) {
      if (e instanceof PtdError && e.message.startsWith("building at STEP")) {
        throw e;
      }
      throw atLine(e, this.file.file, inst.line);
    }
  }

  /** The cached image for `parts`, unless the cache is off. */
  private cached(key: string): ImageRecord | undefined {
    if (this.opts.noCache || !this.opts.layers) return undefined;
    return this.cache.get(key, this.opts.cacheTtlMs);
  }

  /** Moves the stage to `img`, the result of a step (cached or new). */
  private advance(s: StageState, img: ImageRecord, hit: boolean) {
    if (hit) this.host.say(`--> Using cache ${img.id}`);
    this.host.say(`--> ${img.id.slice(0, 11)}`);
    s.image = img;
    s.comment = `FROM ${img.id.slice(0, 12)}`;
  }

  /** The key of a step over the stage's current image. */
  private key(s: StageState, parts: unknown[]): string {
    return this.cache.key([
      s.image?.id ?? "scratch",
      this.opts.docker,
      ...parts,
    ]);
  }

  /** Stores the step's image (a layer tar, or the config alone). */
  private async store(
    s: StageState,
    createdBy: string,
    key: string,
    layer?: string,
  ) {
    const history: HistoryEntry = { created_by: createdBy, comment: s.comment };
    const img = await storeNewImage(this.host.store, {
      base: s.image,
      layer,
      config: clone(s.config),
      history,
      author: s.author,
      docker: this.opts.docker,
      intermediate: true,
      created: this.opts.timestamp,
    });
    this.made.push(img.id);
    if (this.opts.layers) this.cache.put(key, img);
    this.advance(s, img, false);
  }

  /** A step that changes the config only. */
  private async configStep(s: StageState, inst: Instruction, extra = false) {
    const key = this.key(s, [inst.keyword, s.config, s.author ?? null]);
    const hit = this.cached(key);
    if (extra) this.host.say(this.header(s.stage, inst));
    if (hit) return this.advance(s, hit, true);
    await this.store(s, `/bin/sh -c #(nop) ${inst.text}`, key);
  }

  private async argInstruction(s: StageState, inst: Instruction) {
    for (const [k, v] of keyValues(inst.args, s.vars, this.file.escape, true)) {
      const value = this.opts.buildArgs.get(k) ?? v ?? this.globals.get(k);
      if (value === undefined) continue;
      s.args.set(k, value);
      // An ENV of the same name wins over the ARG.
      if (!(s.config.Env ?? []).some((e) => e.startsWith(`${k}=`))) {
        s.vars.set(k, value);
      }
    }
    const names = [...s.args.keys()].join(" ");
    await this.configStep(s, { ...inst, text: `ARG ${names || inst.args}` });
  }

  /**
   * The image a `from=` (of COPY or a RUN mount) names: a stage built
   * before, else an image pulled as the build's policy says.
   */
  private async fromImage(
    s: StageState,
    ref: string,
    fail: (why: string) => Error,
  ): Promise<ImageRecord> {
    const st = this.stageOf(
      expandWord(ref, s.vars, this.file.escape),
      s.stage.index,
    );
    const img = st
      ? this.built.get(st.index)
      : await this.host.baseImage(ref, this.opts.pull);
    if (!img) throw fail(`--from=${ref}: that stage has no content`);
    return img;
  }

  /**
   * `RUN`'s mounts from --mount flags and the build's --volume. A bind
   * `from=` a stage or an image is a copy of its tree, made only when
   * `snap` (a cache hit needs no mount); its image id goes in `deps`, the
   * copies in `dirs`.
   */
  private async runMounts(
    s: StageState,
    inst: Instruction,
    snap: boolean,
    deps: string[],
    dirs: string[],
  ): Promise<ContainerMount[]> {
    const out = [...this.opts.volumes];
    for (const o of mountOptions(inst)) {
      const type = o.get("type") ?? "bind";
      const target = o.get("target") ?? o.get("dst") ?? o.get("destination");
      if (type === "secret") {
        const id = o.get("id") ?? target?.split("/").pop() ?? "";
        const src = this.opts.secrets.get(id);
        if (src === undefined) {
          throw invalid(
            `secret ${
              JSON.stringify(id)
            } not given (--secret id=${id},src=FILE)`,
          );
        }
        out.push({
          type: "bind",
          source: src,
          destination: target ?? `/run/secrets/${id}`,
          readonly: true,
        });
        continue;
      }
      const text = [...o].map(([k, v]) => `${k}=${v}`).join(",");
      if (!target) throw invalid(`--mount=${text}: no target`);
      if (type === "cache") {
        const id = o.get("id") ?? target;
        const name = `ptd-build-cache-${this.cache.key([id]).slice(0, 16)}`;
        out.push({
          type: "volume",
          source: name,
          destination: target,
          readonly: false,
        });
      } else if (type === "bind") {
        const rw = o.get("rw") === "true" || o.get("readwrite") === "true";
        const from = o.get("from");
        const src = o.get("source") ?? o.get("src");
        let source: string;
        if (from !== undefined) {
          const img = await this.fromImage(s, from, (why) => invalid(why));
          deps.push(img.id);
          if (!snap) continue;
          const copy = await this.host.snapshot(
            img,
            resolvePath("/", src ?? "/"),
          );
          dirs.push(copy.dir);
          source = copy.path;
        } else {
          [{ abs: source }] = contextSources(
            this.opts.context,
            [src ?? "."],
            (why) => invalid(why),
          );
        }
        out.push({ type: "bind", source, destination: target, readonly: !rw });
      } else if (type === "tmpfs") {
        out.push({
          type: "tmpfs",
          source: "",
          destination: target,
          readonly: false,
        });
      } else {throw invalid(
          `--mount type ${JSON.stringify(type)} is not supported`,
        );}
    }
    return out;
  }

  private async runInstruction(s: StageState, inst: Instruction) {
    if (!s.image) {
      throw lineError(
        this.file.file,
        inst.line,
        "RUN needs a FROM image with a shell: the stage is FROM scratch and empty",
      );
    }
    const shell = s.config.Shell ?? DEFAULT_SHELL;
    const doc = inst.heredocs[0];
    const onlyDoc = doc && /^<<-?["']?\w+["']?\s*$/.test(inst.args.trim());
    const full = [
      inst.args,
      ...inst.heredocs.map((h) => `${h.content}${h.name}`),
    ].join("\n");
    const argv = onlyDoc
      ? [...shell, doc.content]
      : inst.heredocs.length
      ? [...shell, full]
      : execForm(inst.args) ?? [...shell, inst.args];
    const env = [...s.args].filter(([k]) =>
      !(s.config.Env ?? []).some((e) => e.startsWith(`${k}=`))
    )
      .map(([k, v]) => `${k}=${v}`);
    const deps: string[] = [];
    const dirs: string[] = [];
    await this.runMounts(s, inst, false, deps, []);
    const network = flag(inst, "network") ?? this.opts.network;
    const key = this.key(s, [
      "RUN",
      argv,
      env,
      inst.flags,
      network ?? null,
      ...deps,
    ]);
    const hit = this.cached(key);
    if (hit) return this.advance(s, hit, true);
    const argText = [...s.args].map(([k, v]) => `${k}=${v}`);
    const createdBy = `${
      argText.length ? `|${argText.length} ${argText.join(" ")} ` : ""
    }/bin/sh -c ${onlyDoc || inst.heredocs.length ? full : inst.args}`;
    let result: { code: number; layer?: string };
    try {
      const mounts = await this.runMounts(s, inst, true, [], dirs);
      result = await this.host.run(s.image, { argv, env, network, mounts });
    } finally {
      await removeTrees(dirs);
    }
    const { code, layer } = result;
    if (code !== 0) {
      const shown = execForm(inst.args)?.join(" ") ?? inst.args;
      throw new PtdError(
        "internal",
        `building at STEP "RUN ${shown}": while running runtime: exit status ${code}`,
        code,
      );
    }
    try {
      await this.store(s, createdBy, key, layer);
    } finally {
      if (layer) await Deno.remove(layer).catch(() => {});
    }
  }

  /** The owner a --chown names, looked up in the image's /etc files. */
  private owner(s: StageState, spec: string | undefined): Owner {
    if (!spec) return { uid: 0, gid: 0 };
    const expanded = expandWord(spec, s.vars, this.file.escape);
    const [u, g] = expanded.split(":");
    const lookup = (file: string, name: string): number => {
      if (/^\d+$/.test(name)) return Number(name);
      const text = s.image ? this.imageFile(s.image, file) : undefined;
      const line = text?.split("\n").find((l) => l.split(":")[0] === name);
      if (!line) {
        throw invalid(
          `looking up ${file === "/etc/passwd" ? "user" : "group"} ${
            JSON.stringify(name)
          } in the image: not found`,
        );
      }
      return Number(line.split(":")[2]);
    };
    const uid = lookup("/etc/passwd", u);
    let gid: number;
    if (g !== undefined) gid = lookup("/etc/group", g);
    else if (/^\d+$/.test(u)) gid = uid;
    else {
      const line = this.imageFile(s.image!, "/etc/passwd")!.split("\n").find((
        l,
      ) => l.split(":")[0] === u)!;
      gid = Number(line.split(":")[3]);
    }
    return { uid, gid };
  }

  /** A file of the image, read through its layer dirs (top first), if readable. */
  private imageFile(img: ImageRecord, path: string): string | undefined {
    for (const dir of this.host.store.lowerDirs(img)) {
      try {
        return Deno.readTextFileSync(`${dir}${path}`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) return undefined;
      }
    }
    return undefined;
  }

  /** Whether `path` is a directory in the image (a symlink counts: /bin). */
  private isDirInImage(img: ImageRecord | undefined, path: string): boolean {
    if (!img) return false;
    for (const dir of this.host.store.lowerDirs(img)) {
      try {
        const st = Deno.lstatSync(`${dir}${path}`);
        return st.isDirectory || st.isSymlink;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) return false;
      }
    }
    return false;
  }

  /**
   * The names in the directory `path` of image `img`: its layers' dirs
   * merged as overlay merges them (a whiteout hides, an opaque dir ends).
   */
  private imageDir(img: ImageRecord, path: string): string[] {
    const seen = new Map<string, boolean>();
    for (const dir of this.host.store.lowerDirs(img)) {
      const at = `${dir}${path}`;
      try {
        for (const e of Deno.readDirSync(at)) {
          if (seen.has(e.name)) continue;
          seen.set(e.name, !isWhiteout(Deno.lstatSync(`${at}/${e.name}`)));
        }
      } catch {
        continue;
      }
      if (isOpaque(at)) break;
    }
    return [...seen].filter(([, live]) => live).map(([n]) => n).sort();
  }

  /** The absolute paths in image `img` the glob `pattern` matches. */
  private imageGlob(img: ImageRecord, pattern: string): string[] {
    let paths = [""];
    for (const part of pattern.split("/").filter((p) => p)) {
      // Each name is looked up, so `*/x` keeps only the dirs that hold x.
      paths = paths.flatMap((p) =>
        this.imageDir(img, p || "/").filter((n) => globMatch(part, n))
          .map((n) => `${p}/${n}`)
      );
    }
    return paths;
  }

  private async copyInstruction(s: StageState, inst: Instruction) {
    const add = inst.keyword === "ADD";
    const words = inst.heredocs.length
      ? inst.args.trim().split(/\s+/)
      : execForm(inst.args) ?? expandWords(inst.args, s.vars, this.file.escape);
    if (words.length < 2 && !(inst.heredocs.length && words.length >= 2)) {
      throw lineError(
        this.file.file,
        inst.line,
        `${inst.keyword} requires at least two arguments`,
      );
    }
    const destWord = inst.heredocs.length
      ? expandWord(words.at(-1)!, s.vars, this.file.escape)
      : words.at(-1)!;
    const srcs = words.slice(0, -1);
    const wd = s.config.WorkingDir || "/";
    const dest = resolvePath(wd, destWord);
    const owner = this.owner(s, flag(inst, "chown"));
    const chmodText = flag(inst, "chmod");
    const chmod = chmodText === undefined ? undefined : parseInt(chmodText, 8);
    if (
      chmod !== undefined && (isNaN(chmod) || !/^[0-7]{3,4}$/.test(chmodText!))
    ) {
      throw invalid(
        `invalid --chmod ${JSON.stringify(chmodText)}: want octal permissions`,
      );
    }
    const fromRef = flag(inst, "from");
    const fail = (why: string) =>
      lineError(this.file.file, inst.line, `${inst.keyword} ${why}`);

    // What the step depends on, for its cache key.
    let sources: Source[] = [];
    let fromImage: ImageRecord | undefined;
    let digest: string;
    const urls = add ? srcs.filter((u) => /^https?:\/\//.test(u)) : [];
    if (inst.heredocs.length) {
      digest = JSON.stringify(
        inst.heredocs.map((
          h,
        ) => [
          h.name,
          h.expand
            ? expandWord(h.content, s.vars, this.file.escape)
            : h.content,
        ]),
      );
    } else if (fromRef !== undefined) {
      fromImage = await this.fromImage(s, fromRef, fail);
      digest = fromImage.id;
    } else {
      const local = srcs.filter((u) => !urls.includes(u));
      sources = local.length
        ? contextSources(this.opts.context, local, fail)
        : [];
      digest = await sourcesDigest(this.opts.context, sources) + urls.join(" ");
    }
    const many = srcs.length > 1 || sources.length > 1 ||
      srcs.some((p) => /[*?[]/.test(p));
    const destDir = destWord.endsWith("/") || many ||
      this.isDirInImage(s.image, dest);
    const key = this.key(s, [
      inst.keyword,
      dest,
      destDir,
      digest,
      owner,
      chmod ?? null,
      flag(inst, "checksum") ?? null,
    ]);
    const hit = this.cached(key);
    if (hit) return this.advance(s, hit, true);

    const rel = (p: string) => p.replace(/^\/+/, "").replace(/\/+$/, "");
    const target = rel(dest);
    const under = (name: string) => target ? `${target}/${name}` : name;
    const files = new CopyTar(this.host.tempPath());
    let what = "file";
    try {
      if (destDir && target && !this.isDirInImage(s.image, dest)) {
        await files.dir(target, owner);
      }
      if (inst.heredocs.length) {
        for (const h of inst.heredocs) {
          const text = h.expand
            ? expandWord(h.content, s.vars, this.file.escape)
            : h.content;
          await files.bytes(
            destDir ? under(h.name) : target,
            new TextEncoder().encode(text),
            owner,
            chmod ?? 0o644,
          );
        }
      } else if (fromImage) {
        what = "dir";
        const paths = srcs.flatMap((src) => {
          if (!/[*?[]/.test(src)) return [src];
          const found = this.imageGlob(fromImage!, resolvePath("/", src));
          if (found.length === 0) {
            throw fail(`--from=${fromRef} ${src}: no such file or directory`);
          }
          return found;
        });
        for (const src of paths) {
          const tmp = this.host.tempPath();
          try {
            await this.host.extract(fromImage, src, tmp);
            let top: string | undefined;
            let topIsDir = false;
            await files.from(
              createReadStream(tmp),
              (n, type) => {
                const clean = n.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
                if (top === undefined) {
                  top = clean;
                  topIsDir = type === "directory";
                }
                if (clean === top) {
                  // The source itself: a file lands at its name, a
                  // directory's content goes in.
                  if (topIsDir) return undefined;
                  return destDir ? under(clean.split("/").pop()!) : target;
                }
                return under(clean.slice(top.length + 1));
              },
              flag(inst, "chown") ? owner : undefined,
              chmod,
            );
          } finally {
            await Deno.remove(tmp).catch(() => {});
          }
        }
      } else {
        for (const src of sources) {
          what = src.info.isDirectory ? "dir" : "file";
          if (add && src.info.isFile && isArchive(src.abs)) {
            await files.from(
              await archiveStream(src.abs),
              (n) => {
                const c = n.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
                return c === "" || c === "." ? undefined : under(c);
              },
              flag(inst, "chown") ? owner : undefined,
              chmod,
            );
            continue;
          }
          for (const e of sourceTree(this.opts.context, src)) {
            const name = src.info.isDirectory
              ? e.sub ? under(e.sub) : undefined
              : destDir
              ? under(src.abs.split("/").pop()!)
              : target;
            if (name === undefined) continue;
            await files.node(name, e.abs, e.info, owner, chmod);
          }
        }
        for (const url of urls) {
          const data = await download(url, flag(inst, "checksum"));
          const name = destDir
            ? under(new URL(url).pathname.split("/").pop() || "download")
            : target;
          await files.bytes(name, data, owner, chmod ?? 0o600);
        }
      }
      await files.finish();
    } catch (e) {
      await files.abort();
      throw e;
    }
    const createdBy = `/bin/sh -c #(nop) ${inst.keyword} ${what}:${
      digestHex(`sha256:${key}`)
    } in ${destWord} `;
    let layer: string | undefined;
    try {
      layer = s.image ? await this.host.land(s.image, files.path) : files.path;
      await this.store(s, createdBy, key, layer);
    } finally {
      await Deno.remove(files.path).catch(() => {});
      if (layer && layer !== files.path) {
        await Deno.remove(layer).catch(() => {});
      }
    }
  }
}

/** The options of each `--mount=` of an instruction, as a map. */
function mountOptions(inst: Instruction): Map<string, string>[] {
  return inst.flags.filter((f) => f.name === "mount").map((f) =>
    new Map(
      f.value.split(",").map((kv) => {
        const i = kv.indexOf("=");
        return [i < 0 ? kv : kv.slice(0, i), i < 0 ? "true" : kv.slice(i + 1)];
      }),
    )
  );
}

/** Whether ADD unpacks the local file at `path`: a tar, plain or compressed. */
function isArchive(path: string): boolean {
  if (sniffCompression(path) !== "none") return true;
  const head = fileHead(path, 263);
  return new TextDecoder().decode(head.subarray(257, 262)) === "ustar";
}

/** A local archive as a plain tar stream. */
function archiveStream(path: string): Promise<Readable> {
  const c = sniffCompression(path);
  return Promise.resolve(
    c === "none" ? createReadStream(path) : layerTar(
      path,
      c === "gzip"
        ? "application/vnd.oci.image.layer.v1.tar+gzip"
        : "application/vnd.oci.image.layer.v1.tar+zstd",
    ),
  );
}

/** Fetches `url` for ADD; `checksum` ("sha256:HEX") must match when given. */
async function download(url: string, checksum?: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw invalid(`ADD ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw invalid(`ADD ${url}: invalid response status ${res.status}`);
  }
  const data = new Uint8Array(await res.arrayBuffer());
  if (checksum !== undefined) {
    const got = digestOf(data);
    if (got !== checksum) {
      throw invalid(
        `ADD ${url}: checksum mismatch: want ${checksum}, got ${got}`,
      );
    }
  }
  return data;
}
