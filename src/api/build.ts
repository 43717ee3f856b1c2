/**
 * `POST /build` (Docker's legacy builder: a tar context in the body, the
 * output streamed as `{"stream": ...}` lines, the image id in an `aux`
 * line) and `POST /commit`, through the engine's build and commit. Their
 * code (and the Containerfile parser's npm package) loads on the first
 * request that needs it, not with the service.
 */
import type { Engine } from "../engine/engine.ts";
import { localName } from "../image/reference.ts";
import { buildCode, commitCode } from "../engine/build_code.ts";
import { invalid } from "../runtime/errors.ts";
import type { HttpRequest } from "./http.ts";
import { bodyToTemp, progressStream } from "./images.ts";
import { flag, json } from "./reply.ts";
import type { Route } from "./router.ts";

/** A query parameter holding a JSON map of strings (buildargs, labels). */
function jsonMap(req: HttpRequest, name: string): Record<string, string> {
  const raw = req.query.get(name);
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalid(`invalid ${name}: ${raw}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw invalid(`invalid ${name}: ${raw}`);
  }
  // A null value (`--build-arg NAME` unset in the client) sets nothing.
  return Object.fromEntries(
    Object.entries(v).filter(([, x]) => x !== null).map((
      [k, x],
    ) => [k, String(x)]),
  );
}

/** The Dockerfile's path in the context; one that leaves it is refused. */
function dockerfileIn(req: HttpRequest): string | undefined {
  const f = req.query.get("dockerfile") || undefined;
  if (f?.split("/").includes("..")) {
    throw invalid(`the Dockerfile (${f}) must be within the build context`);
  }
  return f;
}

/** Builder settings ptd does not have: refused when set, not dropped. */
function refuseUnsupported(req: HttpRequest) {
  if (req.query.get("version") === "2") {
    throw invalid(
      "BuildKit is not supported by ptd: use the legacy builder (DOCKER_BUILDKIT=0)",
    );
  }
  for (const name of ["remote", "outputs"]) {
    if (req.query.get(name)) throw invalid(`build ${name} is not supported`);
  }
  for (const name of ["memory", "memswap", "cpushares", "cpuquota"]) {
    const v = req.query.get(name);
    if (v && v !== "0" && v !== "-1") {
      throw invalid(`build ${name} is not supported by ptd`);
    }
  }
}

/** Docker's network mode of RUN steps as ptd's. */
function buildNetwork(req: HttpRequest): string | undefined {
  const mode = req.query.get("networkmode") || undefined;
  return mode === "default" || mode === "bridge" ? undefined : mode;
}

/** Runs the build of the context in `tmp`, reporting Docker's lines. */
async function runBuild(
  e: Engine,
  req: HttpRequest,
  tmp: string,
  dockerfile: string | undefined,
  report: (m: Record<string, unknown>) => void,
) {
  const { buildImage } = await buildCode();
  const quiet = flag(req, "q");
  const tags = req.query.getAll("t").filter(Boolean);
  const say = (text: string) => report({ stream: text });
  const dec = new TextDecoder();
  const img = await buildImage(e, {
    context: tmp,
    file: dockerfile,
    fileInContext: true,
    tags,
    buildArgs: new Map(Object.entries(jsonMap(req, "buildargs"))),
    labels: jsonMap(req, "labels"),
    target: req.query.get("target") || undefined,
    noCache: flag(req, "nocache"),
    pull: flag(req, "pull") ? "always" : "missing",
    squash: flag(req, "squash") ? "new" : undefined,
    network: buildNetwork(req),
    docker: true,
    say: quiet ? undefined : (line) => say(`${line}\n`),
    output: quiet ? () => Promise.resolve() : (chunk) => {
      say(dec.decode(chunk, { stream: true }));
      return Promise.resolve();
    },
  });
  report({ aux: { ID: `sha256:${img.id}` } });
  const last = quiet ? [`sha256:${img.id}`] : [
    `Successfully built ${img.id.slice(0, 12)}`,
    ...tags.map((t) => `Successfully tagged ${localName(t)}`),
  ];
  for (const l of last.slice(0, -1)) say(`${l}\n`);
  return { stream: `${last.at(-1)}\n` };
}

/** The build and commit routes. */
export const buildRoutes: Route[] = [
  ["POST", "/build", async ({ e, req }) => {
    refuseUnsupported(req);
    const dockerfile = dockerfileIn(req);
    const tmp = await bodyToTemp(req, "ptd-api-build-");
    return {
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: progressStream(undefined, async (report) => {
        try {
          return await runBuild(e, req, tmp, dockerfile, report);
        } finally {
          await Deno.remove(tmp).catch(() => {});
        }
      }),
    };
  }],
  ["POST", "/commit", async ({ e, req }) => {
    const container = req.query.get("container");
    if (!container) throw invalid("a container is required");
    const repo = req.query.get("repo");
    const tag = req.query.get("tag");
    if (!repo && tag) throw invalid("a tag needs a repository");
    const { commitContainer } = await commitCode();
    const img = await commitContainer(e, container, {
      name: repo ? `${repo}:${tag || "latest"}` : undefined,
      changes: req.query.getAll("changes").flatMap((c) =>
        c.split("\n").filter((l) => l.trim())
      ),
      message: req.query.get("comment") || undefined,
      author: req.query.get("author") || undefined,
      docker: true,
    });
    return json({ Id: `sha256:${img.id}` }, 201);
  }],
];
