/**
 * The build context: a directory (or a tarball, or one on stdin, unpacked
 * into a temporary one), the Containerfile found in it, and the files COPY
 * and ADD may take from it. `.containerignore` (else `.dockerignore`) is
 * applied with Docker's own rules through @balena/dockerignore, the matcher
 * Docker's Node clients use. Every source must stay inside the context:
 * its real path, symlinks resolved, is checked, as Docker checks it.
 */
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import * as fs from "../../ffi/fs.ts";
import { gunzipped } from "../image/archive.ts";
import { LayerWriter } from "../image/layer_writer.ts";
import { TarReader } from "../image/tar_reader.ts";
import { invalid, notFound } from "../runtime/errors.ts";
import { globMatch } from "../runtime/glob.ts";
import { tempPrefix } from "../storage/blobs.ts";
import { removeTrees } from "../storage/remove.ts";

/** The package's CommonJS default export, typed as what it is. */
const ignore = dockerignore as unknown as () => {
  add(patterns: string[]): { ignores(path: string): boolean };
};

/** Where COPY and ADD take files from. */
export interface BuildContext {
  /** Absolute, symlinks resolved. */
  dir: string;
  /** Whether the ignore file leaves out `rel` (a path in the context). */
  ignored(rel: string): boolean;
  /** Removes a context unpacked from a tarball. */
  cleanup(): Promise<void>;
}

/** A file or tree a COPY takes: its path in the context and lstat. */
export interface Source {
  rel: string;
  abs: string;
  info: Deno.FileInfo;
}

/** Unpacks a (possibly gzipped) tar stream into the new directory `dir`. */
async function unpackTree(src: Readable, dir: string): Promise<void> {
  const root = fs.openat(fs.AT_FDCWD, dir, fs.O_DIRECTORY | fs.O_NOFOLLOW);
  const writer = new LayerWriter(root, false, { userns: false, owner: "skip" });
  try {
    const reader = new TarReader(writer);
    for await (const c of await gunzipped(src)) reader.write(c as Uint8Array);
    reader.finish();
    writer.finish();
  } finally {
    writer.close();
    fs.close(root);
  }
}

/** The ignore matcher of the context at `dir`, from its ignore file. */
function ignoreOf(
  dir: string,
  containerfile?: string,
): (rel: string) => boolean {
  for (
    const name of [
      ...containerfile
        ? [`${containerfile}.containerignore`, `${containerfile}.dockerignore`]
        : [],
      `${dir}/.containerignore`,
      `${dir}/.dockerignore`,
    ]
  ) {
    let text: string;
    try {
      text = Deno.readTextFileSync(name);
    } catch {
      continue;
    }
    const ig = ignore().add(
      text.split("\n").filter((l) => l.trim() && !l.startsWith("#")),
    );
    return (rel) => rel !== "" && rel !== "." && ig.ignores(rel);
  }
  return () => false;
}

/**
 * Opens the context `arg`: a directory, a tarball (gzip allowed), or "-"
 * for a tarball on stdin. `containerfile` (a path, if given with -f) may
 * have its own ignore file beside it, as in Podman.
 */
export async function openContext(
  arg: string,
  tempRoot: string,
  containerfile?: string,
): Promise<BuildContext> {
  let info: Deno.FileInfo | undefined;
  if (arg !== "-") {
    try {
      info = Deno.statSync(arg);
    } catch {
      throw invalid(`context must be a directory: ${JSON.stringify(arg)}`);
    }
  }
  if (info?.isDirectory) {
    const dir = Deno.realPathSync(arg);
    return {
      dir,
      ignored: ignoreOf(dir, containerfile),
      cleanup: () => Promise.resolve(),
    };
  }
  Deno.mkdirSync(tempRoot, { recursive: true, mode: 0o700 });
  const dir = Deno.makeTempDirSync({
    dir: tempRoot,
    prefix: `${tempPrefix()}context-`,
  });
  try {
    const src = arg === "-"
      ? Readable.fromWeb(Deno.stdin.readable as never)
      : createReadStream(arg);
    await unpackTree(src, dir);
  } catch (e) {
    await removeTrees([dir]);
    throw invalid(`reading the build context ${arg}: ${(e as Error).message}`);
  }
  return {
    dir,
    ignored: ignoreOf(dir, containerfile),
    cleanup: () => removeTrees([dir]),
  };
}

/**
 * The Containerfile: `file` (relative to the working directory, else to
 * the context; "-" for stdin), or Containerfile then Dockerfile in the
 * context. Returns its text and the name errors give it.
 */
export async function readContainerfile(
  ctx: BuildContext,
  file?: string,
): Promise<{ text: string; name: string; path?: string }> {
  if (file === "-") {
    return { text: await new Response(Deno.stdin.readable).text(), name: "-" };
  }
  const tries = file === undefined
    ? [`${ctx.dir}/Containerfile`, `${ctx.dir}/Dockerfile`]
    : [file, `${ctx.dir}/${file}`];
  for (const path of tries) {
    try {
      const text = Deno.readTextFileSync(path);
      return { text, name: path.split("/").pop()!, path };
    } catch (e) {
      if (e instanceof Deno.errors.IsADirectory && file !== undefined) {
        throw invalid(`${file}: is a directory, not a Containerfile`);
      }
    }
  }
  if (file !== undefined) {
    throw notFound(
      `the specified Containerfile or Dockerfile does not exist, ${file}: no such file or directory`,
    );
  }
  throw notFound(
    `no Containerfile or Dockerfile specified or found in context directory, ${ctx.dir}: no such file or directory`,
  );
}

/** `p` cleaned and relative to the context root ("" for the root). */
function clean(p: string): string | undefined {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.pop() === undefined) return undefined;
    } else out.push(c);
  }
  return out.join("/");
}

/** Every path in the context (not ignored), for glob matching. */
function contextPaths(ctx: BuildContext): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel ? `${ctx.dir}/${rel}` : ctx.dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (ctx.ignored(r)) continue;
      out.push(r);
      if (e.isDirectory) walk(r);
    }
  };
  walk("");
  return out.sort();
}

/**
 * The sources `patterns` name in the context (globs as Go's path.Match);
 * throws `fail(why)` for one outside the context or matching nothing.
 */
export function contextSources(
  ctx: BuildContext,
  patterns: string[],
  fail: (why: string) => Error,
): Source[] {
  const out: Source[] = [];
  let all: string[] | undefined;
  for (const pattern of patterns) {
    const rel = clean(pattern);
    if (rel === undefined) {
      throw fail(`${pattern}: outside the build context`);
    }
    const names = /[*?[]/.test(rel)
      ? (all ??= contextPaths(ctx)).filter((p) => globMatch(rel, p))
      : ctx.ignored(rel)
      ? []
      : [rel];
    const found: Source[] = [];
    for (const r of names) {
      const abs = r ? `${ctx.dir}/${r}` : ctx.dir;
      let real: string;
      try {
        real = Deno.realPathSync(abs);
      } catch {
        continue;
      }
      if (real !== ctx.dir && !real.startsWith(`${ctx.dir}/`)) {
        throw fail(`${pattern}: outside the build context`);
      }
      found.push({ rel: r, abs: real, info: Deno.statSync(real) });
    }
    if (found.length === 0) {
      throw fail(`${pattern}: no such file or directory in the build context`);
    }
    out.push(...found);
  }
  return out;
}

/** The entries under a source, each with its path below it ("" for itself). */
export function* sourceTree(
  ctx: BuildContext,
  src: Source,
): Generator<{ sub: string; abs: string; info: Deno.FileInfo }> {
  yield { sub: "", abs: src.abs, info: src.info };
  if (!src.info.isDirectory) return;
  const walk = function* (
    abs: string,
    sub: string,
  ): Generator<{ sub: string; abs: string; info: Deno.FileInfo }> {
    const names = [...Deno.readDirSync(abs)].map((e) => e.name).sort();
    for (const n of names) {
      const s = sub ? `${sub}/${n}` : n;
      const rel = src.rel ? `${src.rel}/${s}` : s;
      if (ctx.ignored(rel)) continue;
      const a = `${abs}/${n}`;
      const info = Deno.lstatSync(a);
      yield { sub: s, abs: a, info };
      if (info.isDirectory) yield* walk(a, s);
    }
  };
  yield* walk(src.abs, "");
}

/**
 * The digest of what COPY takes from `sources`: every entry's path, type,
 * mode, size, link target and content (not times: a touched but unchanged
 * file keeps the cache, as in Docker).
 */
export async function sourcesDigest(
  ctx: BuildContext,
  sources: Source[],
): Promise<string> {
  const h = createHash("sha256");
  for (const src of sources) {
    for (const e of sourceTree(ctx, src)) {
      const type = e.info.isDirectory ? "d" : e.info.isSymlink ? "l" : "f";
      h.update(
        `${src.rel}\0${e.sub}\0${type}\0${e.info.mode}\0${e.info.size}\0`,
      );
      if (e.info.isSymlink) h.update(Deno.readLinkSync(e.abs));
      else if (e.info.isFile) {
        for await (const c of createReadStream(e.abs)) {
          h.update(c as Uint8Array);
        }
      }
      h.update("\n");
    }
  }
  return `sha256:${h.digest("hex")}`;
}
