/**
 * A Containerfile read into stages of instructions. The lexing (line
 * continuations, comments, parser directives, `# escape`, flags, heredoc
 * bounds) is dockerfile-ast's, the parser of the Dockerfile language
 * server: kept up to date with Docker's syntax and tested on it. Here the
 * instructions are checked as Podman checks them (known keywords, the
 * flags each takes) and grouped by FROM, each remembering its line so
 * every error can name it.
 */
import { DockerfileParser } from "dockerfile-ast";
import { invalid, PtdError } from "../runtime/errors.ts";

/** A heredoc body (`<<EOF ... EOF`) of an instruction. */
export interface Heredoc {
  name: string;
  content: string;
  /** False when the delimiter was quoted: no variables expanded. */
  expand: boolean;
}

/** A `--name=value` flag of an instruction. */
export interface Flag {
  name: string;
  value: string;
}

/** One instruction, as written. */
export interface Instruction {
  /** The keyword, upper case. */
  keyword: string;
  /** 1-based line of the Containerfile it starts on. */
  line: number;
  flags: Flag[];
  /** The arguments after the flags; with heredocs, their first line only. */
  args: string;
  heredocs: Heredoc[];
  /** How Podman shows it: `KEYWORD [flags] args`. */
  text: string;
}

/** One FROM and the instructions after it. */
export interface Stage {
  index: number;
  /** The `AS name`, lower case. */
  name?: string;
  from: Instruction;
  steps: Instruction[];
}

/** A parsed Containerfile. */
export interface Containerfile {
  /** The name errors give it (e.g. "Containerfile"). */
  file: string;
  escape: string;
  /** ARGs before the first FROM: usable in FROM lines. */
  globalArgs: Instruction[];
  stages: Stage[];
}

/** The flags each instruction takes, and Podman's complaint otherwise. */
const FLAGS: Record<string, [string[], string]> = {
  FROM: [["platform"], "FROM only supports the --platform flag"],
  RUN: [["mount", "network", "security"], "RUN only supports the --mount flag"],
  COPY: [
    ["chmod", "chown", "from", "link"],
    "COPY only supports the --chmod=<permissions> --chown=<uid:gid> and the --from=<image|stage> flags",
  ],
  ADD: [
    ["chmod", "chown", "checksum", "link"],
    "ADD only supports the --chmod=<permissions>, --chown=<uid:gid>, and --checksum=<checksum> flags",
  ],
  HEALTHCHECK: [
    ["interval", "timeout", "start-period", "retries"],
    "HEALTHCHECK only supports the --interval, --timeout, --start-period and --retries flags",
  ],
};

/** The instructions that change the image's config alone. */
export const CONFIG_KEYWORDS = new Set([
  "ENV",
  "LABEL",
  "WORKDIR",
  "USER",
  "ENTRYPOINT",
  "CMD",
  "EXPOSE",
  "VOLUME",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
  "ONBUILD",
]);

/** Every instruction ptd builds. */
const KEYWORDS = new Set([
  ...CONFIG_KEYWORDS,
  "FROM",
  "RUN",
  "COPY",
  "ADD",
  "ARG",
  "MAINTAINER",
]);

/** An error about line `line` of `file`, in one line. */
export function lineError(file: string, line: number, why: string): PtdError {
  return invalid(`${file}:${line}: ${why}`);
}

/** `e` as an error about line `line` of `file` (kept if it names one). */
export function atLine(e: unknown, file: string, line: number): Error {
  const why = e instanceof Error ? e.message : String(e);
  if (why.startsWith(`${file}:`)) return e as Error;
  return lineError(file, line, why);
}

/** The heredocs of an instruction, from the source lines. */
function heredocsOf(
  inst: { getHeredocs?: () => unknown[] },
  firstLine: string,
  lines: string[],
): Heredoc[] {
  const docs = (inst.getHeredocs?.() ?? []) as {
    getName(): string;
    getContentRange():
      | { start: { line: number }; end: { line: number } }
      | null;
  }[];
  return docs.map((h) => {
    const name = h.getName();
    const m = new RegExp(`<<(-?)(["']?)${name.replace(/\W/g, "\\$&")}\\2`)
      .exec(firstLine);
    const r = h.getContentRange();
    let content = r
      ? lines.slice(r.start.line, r.end.line + 1).join("\n") + "\n"
      : "";
    if (m?.[1] === "-") content = content.replace(/^\t+/gm, "");
    return { name, content, expand: !m?.[2] };
  });
}

/**
 * Parses `text` (the Containerfile called `file` in errors) into its
 * stages; throws a one-line error naming the line of an unknown
 * instruction, a flag it does not take, or a missing FROM.
 */
export function parseContainerfile(text: string, file: string): Containerfile {
  const df = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const escape = df.getEscapeCharacter();
  const out: Containerfile = { file, escape, globalArgs: [], stages: [] };
  for (const i of df.getInstructions()) {
    const keyword = i.getKeyword().toUpperCase();
    const line = i.getRange().start.line + 1;
    if (!KEYWORDS.has(keyword)) {
      throw lineError(file, line, `unknown instruction: ${i.getKeyword()}`);
    }
    const rawFlags = ((i as unknown as { getFlags?: () => unknown[] })
      .getFlags?.() ?? []) as {
        getName(): string;
        getValue(): string | null;
      }[];
    const flags = rawFlags.map((f) => ({
      name: f.getName(),
      value: f.getValue() ?? "",
    }));
    const allowed = FLAGS[keyword];
    for (const f of flags) {
      if (!allowed || !allowed[0].includes(f.name)) {
        throw lineError(
          file,
          line,
          allowed?.[1] ?? `${keyword} takes no flags (--${f.name})`,
        );
      }
    }
    const content = i.getArgumentsContent() ?? "";
    const heredocs = heredocsOf(
      i as never,
      content.split("\n")[0],
      lines,
    );
    const args = heredocs.length ? content.split("\n")[0] : content;
    const flagText = flags.map((f) => `--${f.name}=${f.value} `).join("");
    const inst: Instruction = {
      keyword,
      line,
      flags,
      args,
      heredocs,
      text: `${keyword} ${flagText}${args}`.trim(),
    };
    if (keyword === "FROM") {
      const words = args.trim().split(/\s+/);
      const as = words.length === 3 && words[1].toUpperCase() === "AS";
      if (!words[0] || (words.length !== 1 && !as)) {
        throw lineError(
          file,
          line,
          "FROM requires either one or three arguments",
        );
      }
      out.stages.push({
        index: out.stages.length,
        name: as ? words[2].toLowerCase() : undefined,
        from: inst,
        steps: [],
      });
    } else if (out.stages.length === 0) {
      if (keyword !== "ARG") {
        throw lineError(
          file,
          line,
          `no FROM before ${keyword}: a Containerfile must start with FROM`,
        );
      }
      out.globalArgs.push(inst);
    } else out.stages.at(-1)!.steps.push(inst);
  }
  if (out.stages.length === 0) {
    throw invalid(`${file}: no FROM instruction: nothing to build`);
  }
  return out;
}

/** The value of flag `name`, if given (the last one wins). */
export function flag(inst: Instruction, name: string): string | undefined {
  return inst.flags.findLast((f) => f.name === name)?.value;
}
