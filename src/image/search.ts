/**
 * `search` against registries that list their repositories (the
 * distribution API's /v2/_catalog; Docker Hub does not): the repositories
 * whose name holds the term, or with `listTags` the tags of one repository.
 * A term that names a registry ("HOST/TERM") searches it; any other the
 * unqualified-search-registries of registries.conf.
 */
import { invalid } from "../runtime/errors.ts";
import { endpoints, loadRegistriesConf, parseName } from "./reference.ts";
import { RegistryClient, type RegistryOptions } from "./registry.ts";

/** One row, with Podman's field names. */
export interface SearchResult {
  Index: string;
  Name: string;
  Description: string;
  Stars: number;
  Official: string;
  Automated: string;
  Tag: string;
}

/** What to search for, and how. */
export interface SearchOptions extends RegistryOptions {
  /** At most this many rows per registry (Podman's default: 25). */
  limit?: number;
  /** The tags of the repository the term names, one row each. */
  listTags?: boolean;
}

/** A registry host and the part of the term after it. */
function split(term: string, search: string[]): [string, string][] {
  const i = term.indexOf("/");
  const first = i < 0 ? "" : term.slice(0, i);
  if (/[.:]/.test(first) || first === "localhost") {
    return [[first, term.slice(i + 1)]];
  }
  return search.map((host) => [host, term]);
}

function client(host: string, repository: string, opts: RegistryOptions) {
  const conf = loadRegistriesConf();
  const [ep] = endpoints({ registry: host, repository: "x" }, conf, true);
  return new RegistryClient({ ...ep, repository }, opts);
}

/** The tags of `repository` at the registry `host`, as it lists them. */
export async function repositoryTags(
  host: string,
  repository: string,
  opts: RegistryOptions = {},
): Promise<string[]> {
  const c = client(host, repository, opts);
  try {
    return await c.tags();
  } finally {
    c.close();
  }
}

const row = (host: string, name: string, tag = ""): SearchResult => ({
  Index: host,
  Name: `${host}/${name}`,
  Description: "",
  Stars: 0,
  Official: "",
  Automated: "",
  Tag: tag,
});

/** Searches the registries `term` points at. */
export async function searchRegistries(
  term: string,
  opts: SearchOptions = {},
): Promise<SearchResult[]> {
  const limit = opts.limit ?? 25;
  const out: SearchResult[] = [];
  for (const [host, rest] of split(term, loadRegistriesConf().search)) {
    if (opts.listTags) {
      if (rest === "") {
        throw invalid(`reference "" must be a docker reference`);
      }
      const repo = parseName(`${host}/${rest}`).repository;
      const tags = (await repositoryTags(host, repo, opts)).slice(0, limit);
      out.push(...tags.map((t) => row(host, repo, t)));
      continue;
    }
    const c = client(host, "", opts);
    try {
      const names = await c.catalog().catch((e) => {
        throw invalid(
          `couldn't search registry "${host}": ${(e as Error).message}`,
        );
      });
      const hits = names.filter((n) => n.includes(rest)).slice(0, limit);
      out.push(...hits.map((n) => row(host, n)));
    } finally {
      c.close();
    }
  }
  return out;
}
