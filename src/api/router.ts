/**
 * Routes of the Docker Engine API: a method and a path pattern
 * (`/containers/:id/start`) per handler, reached with or without a
 * version prefix (`/v1.41/...`); a failure becomes Docker's error body.
 */
import type { Engine } from "../engine/engine.ts";
import { notFound } from "../runtime/errors.ts";
import type { Handler, HttpReply, HttpRequest } from "./http.ts";
import { errorReply } from "./reply.ts";

/** What a route handler gets. */
export interface Call {
  e: Engine;
  req: HttpRequest;
  /** The pattern's `:name` parts, decoded. */
  params: Record<string, string>;
}

/** One route: METHOD, pattern, handler. */
export type Route = [string, string, (call: Call) => Promise<HttpReply>];

/** The API version ptd speaks, and the oldest it accepts. */
export const API_VERSION = "1.41";
export const MIN_API_VERSION = "1.24";

interface Compiled {
  method: string;
  re: RegExp;
  names: string[];
  fn: Route[2];
}

function compile([method, pattern, fn]: Route): Compiled {
  const names: string[] = [];
  // An image name holds slashes: a `:name*` part takes the rest up to the suffix.
  const re = pattern.replace(/:(\w+)(\*?)/g, (_, name, rest) => {
    names.push(name);
    return rest ? "(.+)" : "([^/]+)";
  });
  return { method, re: new RegExp(`^${re}$`), names, fn };
}

/** The handler of `routes`, over one engine. */
export function router(e: Engine, routes: Route[]): Handler {
  const table = routes.map(compile);
  return async (req) => {
    const path = req.path.replace(/^\/v\d+\.\d+(?=\/)/, "");
    const method = req.method === "HEAD" ? ["HEAD", "GET"] : [req.method];
    try {
      for (const r of table) {
        if (!method.includes(r.method)) continue;
        const m = r.re.exec(path);
        if (!m) continue;
        const params = Object.fromEntries(r.names.map((n, i) => [n, m[i + 1]]));
        return await r.fn({ e, req, params });
      }
      throw notFound(`page not found: ${req.method} ${req.path}`);
    } catch (err) {
      return errorReply(err);
    }
  };
}
