/**
 * Image routes: list, pull and push (Docker's progress JSON as a stream,
 * credentials from X-Registry-Auth), save and load, inspect, history,
 * tag, remove, prune and search, each one engine call.
 */
import {
  imageHistory,
  inspectImageRef,
  listImages,
  pruneImages,
  removeImages,
  tagImage,
} from "../engine/images.ts";
import { loadImages, saveArchive } from "../engine/archive.ts";
import type { Engine } from "../engine/engine.ts";
import { pull, push, search } from "../engine/registry.ts";
import type { Credentials } from "../image/auth.ts";
import type { PullProgress } from "../image/pull.ts";
import { asPtdError, invalid } from "../runtime/errors.ts";
import { filterArgs, flag, json } from "./reply.ts";
import type { HttpReply, HttpRequest } from "./http.ts";
import type { Route } from "./router.ts";

const enc = new TextEncoder();
const line = (v: unknown) => enc.encode(JSON.stringify(v) + "\r\n");
const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

/** A pull's progress as Docker's JSON messages. */
function progressMessage(p: PullProgress): Record<string, unknown> | undefined {
  switch (p.kind) {
    case "trying":
      return { status: `Trying to pull ${p.ref}` };
    case "blob":
      return {
        status: "Downloading",
        id: short(p.digest),
        progressDetail: { current: p.done, total: p.size },
      };
    case "blob-done":
      return {
        status: p.cached ? "Already exists" : "Download complete",
        id: short(p.digest),
        progressDetail: {},
      };
    case "unpack":
      return {
        status: "Pull complete",
        id: short(p.digest),
        progressDetail: {},
      };
    case "stored":
      return { status: `Digest: ${p.id}` };
    default:
      return undefined;
  }
}

/**
 * Runs `op`, yielding Docker's progress lines as it reports them; its
 * result is the last line, or a failure is (`error`), as Docker reports it
 * once the stream began.
 */
export async function* progressStream(
  first: Record<string, unknown> | undefined,
  op: (report: (m: Record<string, unknown>) => void) => Promise<unknown>,
): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let wake = () => {};
  let finished = false;
  const done = op((m) => {
    queue.push(line(m));
    wake();
  }).then(
    (last) => line(last),
    (err) => {
      const message = asPtdError(err).message;
      return line({ errorDetail: { message }, error: message });
    },
  ).finally(() => {
    finished = true;
    wake();
  });
  if (first) yield line(first);
  while (!finished || queue.length > 0) {
    if (queue.length > 0) yield queue.shift()!;
    else await new Promise<void>((ok) => wake = ok);
  }
  yield await done;
}

/**
 * The credentials of Docker's X-Registry-Auth header (base64url JSON), if
 * it names a user; the auth files otherwise.
 */
function registryAuth(req: HttpRequest): Credentials | undefined {
  const h = req.headers.get("x-registry-auth");
  if (!h) return undefined;
  try {
    const b64 = h.replace(/-/g, "+").replace(/_/g, "/");
    const v = JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
    return v.username
      ? { username: String(v.username), password: String(v.password ?? "") }
      : undefined;
  } catch {
    throw invalid("X-Registry-Auth: not base64 JSON");
  }
}

/**
 * The request's body in a new temp file (an archive or a build context):
 * its path; nothing is left when the body fails.
 */
export async function bodyToTemp(
  req: HttpRequest,
  prefix: string,
): Promise<string> {
  const tmp = await Deno.makeTempFile({ prefix });
  try {
    using f = await Deno.open(tmp, { write: true });
    for await (const chunk of req.stream()) await f.write(chunk);
    return tmp;
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** A temp file's bytes as a reply body, the file removed once sent. */
async function* fileThenGone(path: string): AsyncGenerator<Uint8Array> {
  try {
    using f = await Deno.open(path);
    for await (const chunk of f.readable) yield chunk;
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

/** `docker save`: the images as one docker-archive. */
async function save(e: Engine, names: string[]): Promise<HttpReply> {
  if (names.length === 0) throw invalid("no image names given");
  const tmp = await Deno.makeTempFile({ prefix: "ptd-api-save-" });
  try {
    await saveArchive(e, names, "docker-archive", tmp, true);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  return {
    status: 200,
    headers: { "Content-Type": "application/x-tar" },
    body: fileThenGone(tmp),
  };
}

/** The image routes. */
export const imageRoutes: Route[] = [
  ["GET", "/images/json", ({ e, req }) => {
    const rows = listImages(e, {
      all: flag(req, "all"),
      filters: filterArgs(req),
    });
    const byId = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      const i = r.image;
      const entry = byId.get(i.Id) ?? {
        Id: `sha256:${i.Id}`,
        ParentId: i.ParentId,
        RepoTags: [] as string[],
        RepoDigests: i.RepoDigests,
        Created: i.Created,
        Size: i.Size,
        SharedSize: -1,
        VirtualSize: i.VirtualSize,
        Labels: i.Labels ?? {},
        Containers: i.Containers,
      };
      if (r.Repository !== "<none>") {
        (entry.RepoTags as string[]).push(`${r.Repository}:${r.Tag}`);
      }
      byId.set(i.Id, entry);
    }
    return Promise.resolve(json([...byId.values()]));
  }],
  ["POST", "/images/create", ({ e, req }) => {
    const from = req.query.get("fromImage");
    if (!from) throw invalid("fromImage is required (ptd imports no fromSrc)");
    const tag = req.query.get("tag");
    const name = tag
      ? `${from}${tag.startsWith("sha256:") ? "@" : ":"}${tag}`
      : from;
    const credentials = registryAuth(req);
    return Promise.resolve({
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: progressStream(
        { status: `Pulling from ${name}` },
        async (report) => {
          await pull(e, name, {
            credentials,
            onProgress: (p) => {
              const m = progressMessage(p);
              if (m) report(m);
            },
          });
          return { status: `Status: Downloaded newer image for ${name}` };
        },
      ),
    });
  }],
  ["GET", "/images/get", ({ e, req }) => save(e, req.query.getAll("names"))],
  ["POST", "/images/load", async ({ e, req }) => {
    const tmp = await bodyToTemp(req, "ptd-api-load-");
    try {
      const loaded = await loadImages(e, tmp);
      const names = loaded.flatMap((i) => i.names.length ? i.names : [i.id]);
      return {
        status: 200,
        headers: { "Content-Type": "application/json" },
        body: names.map((n) =>
          `${JSON.stringify({ stream: `Loaded image: ${n}\n` })}\n`
        ).join(""),
      };
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }],
  ["GET", "/images/search", async ({ req }) => {
    const term = req.query.get("term") ?? "";
    const limit = Number(req.query.get("limit") ?? 25);
    const results = await search(term, { limit });
    return json(results.map((r) => ({
      name: r.Name,
      description: r.Description,
      star_count: r.Stars,
      is_official: r.Official === "[OK]",
      is_automated: r.Automated === "[OK]",
    })));
  }],
  ["POST", "/images/prune", async ({ e, req }) => {
    const args = filterArgs(req);
    const all = args.includes("dangling=false");
    const ids = await pruneImages(
      e,
      all,
      args.filter((a) => !a.startsWith("dangling=")),
    );
    return json({
      ImagesDeleted: ids.map((id) => ({ Deleted: `sha256:${id}` })),
      SpaceReclaimed: 0,
    });
  }],
  ["GET", "/images/:name*/get", ({ e, params }) => save(e, [params.name])],
  ["POST", "/images/:name*/push", ({ e, req, params }) => {
    const tag = req.query.get("tag");
    const name = tag ? `${params.name}:${tag}` : params.name;
    const credentials = registryAuth(req);
    return Promise.resolve({
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: progressStream(
        { status: `The push refers to repository [${params.name}]` },
        async (report) => {
          let digest = "";
          await push(e, name, undefined, {
            credentials,
            onProgress: (p) => {
              if (p.kind === "manifest") digest = p.digest;
              else if (!p.config) {
                report({
                  status: p.skipped ? "Layer already exists" : "Pushed",
                  id: short(p.digest),
                  progressDetail: {},
                });
              }
            },
          });
          return { status: `${tag ?? "latest"}: digest: ${digest}` };
        },
      ),
    });
  }],
  ["GET", "/images/:name*/json", ({ e, params }) => {
    const doc = inspectImageRef(e, params.name);
    return Promise.resolve(json({ ...doc, Id: `sha256:${doc.Id}` }));
  }],
  [
    "GET",
    "/images/:name*/history",
    ({ e, params }) =>
      Promise.resolve(json(
        imageHistory(e, params.name).map((h) => ({
          Id: h.id,
          Created: Math.floor(Date.parse(h.Created) / 1000),
          CreatedBy: h.CreatedBy,
          Tags: null,
          Size: h.size,
          Comment: h.comment ?? "",
        })),
      )),
  ],
  ["POST", "/images/:name*/tag", async ({ e, req, params }) => {
    const repo = req.query.get("repo");
    if (!repo) throw invalid("repository name is required");
    await tagImage(e, params.name, [
      `${repo}:${req.query.get("tag") || "latest"}`,
    ]);
    return json({ message: "" }, 201);
  }],
  ["DELETE", "/images/:name*", async ({ e, req, params }) => {
    const out: Record<string, string>[] = [];
    await removeImages(e, [params.name], {
      force: flag(req, "force"),
      onRemoved: (r) =>
        out.push(
          r.kind === "untagged"
            ? { Untagged: r.name }
            : { Deleted: `sha256:${r.id}` },
        ),
    });
    return json(out);
  }],
];
