/**
 * `docker cp`'s routes: GET (a tar of a path, its stat in the
 * X-Docker-Container-Path-Stat header), HEAD (the stat alone) and PUT (a
 * tar landed in a directory) of `/containers/{id}/archive`. The stat is
 * read from the head of the tar the engine makes: one pass, no second look
 * into the container.
 */
import type { Engine } from "../engine/engine.ts";
import { tarIn, tarOut } from "../engine/lifecycle.ts";
import { findContainer } from "../engine/listing.ts";
import { invalid } from "../runtime/errors.ts";
import { concat, type HttpReply, type HttpRequest } from "./http.ts";
import { noContent, produced } from "./reply.ts";
import type { Route } from "./router.ts";

const dec = new TextDecoder();

/** Go's os.FileMode bits for a tar entry's type and mode. */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  sticky: 2 ** 20,
};

/** Docker's container path stat. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const field = (b: Uint8Array, from: number, len: number) =>
  dec.decode(b.subarray(from, from + len)).replace(/\0.*$/s, "");
const octal = (b: Uint8Array, from: number, len: number) =>
  parseInt(field(b, from, len).trim() || "0", 8);

/**
 * The stat of the first real entry of a tar's head (PAX and GNU long-name
 * headers skipped), or undefined while `buf` holds too little of it.
 */
export function statOfTar(buf: Uint8Array, path: string): PathStat | undefined {
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    const type = String.fromCharCode(h[156] || 48);
    const size = octal(h, 124, 12);
    if ("xgLK".includes(type)) {
      off += 512 + Math.ceil(size / 512) * 512;
      continue;
    }
    const perm = octal(h, 100, 8);
    let mode = perm & 0o777;
    if (perm & 0o4000) mode += GO_MODE.setuid;
    if (perm & 0o2000) mode += GO_MODE.setgid;
    if (perm & 0o1000) mode += GO_MODE.sticky;
    if (type === "5") mode += GO_MODE.dir;
    if (type === "2") mode += GO_MODE.symlink;
    const clean = path.replace(/\/+$/, "");
    return {
      name: clean === "" ? "/" : clean.slice(clean.lastIndexOf("/") + 1) || "/",
      size: type === "0" ? size : type === "5" ? 4096 : 0,
      mode,
      mtime: new Date(octal(h, 136, 12) * 1000).toISOString(),
      linkTarget: type === "2" ? field(h, 157, 100) : "",
    };
  }
  return undefined;
}

/**
 * The tar of `path` in the container, begun: its stat and a stream of all
 * of it. A path that is not there fails here, before any reply.
 */
async function openTar(e: Engine, ref: string, path: string) {
  const readable = produced((sink) => tarOut(e, ref, path, sink));
  const reader = readable.getReader();
  let head: Uint8Array = new Uint8Array();
  let stat: PathStat | undefined;
  while (!(stat = statOfTar(head, path))) {
    const r = await reader.read();
    if (r.done) throw invalid(`${path}: the container gave no archive`);
    head = concat(head, r.value);
  }
  const cancel = () => reader.cancel().catch(() => {});
  const rest = async function* () {
    try {
      yield head;
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      cancel();
    }
  };
  return { stat, rest, cancel };
}

function pathOf(req: HttpRequest): string {
  const path = req.query.get("path");
  if (!path) throw invalid("path is required");
  return path;
}

const statHeader = (stat: PathStat) => ({
  "X-Docker-Container-Path-Stat": btoa(JSON.stringify(stat)),
});

async function archiveGet(
  e: Engine,
  req: HttpRequest,
  ref: string,
): Promise<HttpReply> {
  const { stat, rest, cancel } = await openTar(
    e,
    findContainer(e, ref).id,
    pathOf(req),
  );
  const headers = { ...statHeader(stat), "Content-Type": "application/x-tar" };
  if (req.method === "HEAD") {
    cancel();
    return { status: 200, headers };
  }
  return { status: 200, headers, body: rest() };
}

/** The archive routes. */
export const archiveRoutes: Route[] = [
  [
    "GET",
    "/containers/:id/archive",
    ({ e, req, params }) => archiveGet(e, req, params.id),
  ],
  ["PUT", "/containers/:id/archive", async ({ e, req, params }) => {
    const c = findContainer(e, params.id);
    await tarIn(e, c.id, pathOf(req), req.stream());
    return noContent(200);
  }],
];
