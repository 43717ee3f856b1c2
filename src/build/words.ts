/**
 * Words of a Containerfile instruction as Docker's shell lexer reads them:
 * quotes removed ('...' literal, "..." with $ expanded), the escape
 * character taking the next one literally, and `$NAME`, `${NAME}`,
 * `${NAME:-word}`, `${NAME:+word}` (and their forms without the colon)
 * replaced from the build's variables (ARG and ENV). No command
 * substitution, no globbing: that is the shell's job in a RUN.
 */
import { invalid } from "../runtime/errors.ts";

/** Variables in effect: name to value. */
export type Vars = Map<string, string>;

/** Reads words from `text`; `escape` is the directive's (default "\\"). */
class Lexer {
  private i = 0;
  /** Words an unquoted expansion split off before the current one. */
  private spilled: string[] = [];
  constructor(
    private readonly text: string,
    private readonly vars: Vars,
    private readonly escape: string,
  ) {}

  private get ch(): string | undefined {
    return this.text[this.i];
  }

  /** All words, split at unquoted white space. */
  words(): string[] {
    const out: string[] = [];
    for (;;) {
      while (this.ch !== undefined && /\s/.test(this.ch)) this.i++;
      if (this.ch === undefined) return out;
      const last = this.word(true);
      const all = [...this.spilled, last];
      // An expansion's own leading or trailing space makes no empty word.
      out.push(...all.length > 1 ? all.filter((w) => w !== "") : all);
      this.spilled = [];
    }
  }

  /** One word; with `split`, it ends at unquoted white space. */
  word(split: boolean, stop?: string): string {
    let out = "";
    while (this.ch !== undefined) {
      const c = this.ch;
      if (split && /\s/.test(c)) break;
      if (stop !== undefined && c === stop) break;
      this.i++;
      if (c === this.escape) {
        if (this.ch !== undefined) out += this.text[this.i++];
        else out += c;
      } else if (c === "'") out += this.single();
      else if (c === '"') out += this.double();
      else if (c === "$" && split) {
        // Unquoted, an expansion's white space splits words (Docker's).
        const [first, ...rest] = this.dollar().split(/\s+/);
        out += first;
        for (const w of rest) {
          this.spilled.push(out);
          out = w;
        }
      } else if (c === "$") out += this.dollar();
      else out += c;
    }
    return out;
  }

  private single(): string {
    const end = this.text.indexOf("'", this.i);
    if (end < 0) {
      throw invalid(
        "unexpected end of statement while looking for matching single-quote",
      );
    }
    const s = this.text.slice(this.i, end);
    this.i = end + 1;
    return s;
  }

  private double(): string {
    let out = "";
    for (;;) {
      const c = this.ch;
      if (c === undefined) {
        throw invalid(
          "unexpected end of statement while looking for matching double-quote",
        );
      }
      this.i++;
      if (c === '"') return out;
      if (c === this.escape) {
        const n = this.ch;
        if (n === '"' || n === "$" || n === this.escape) {
          out += n;
          this.i++;
        } else out += c;
      } else if (c === "$") out += this.dollar();
      else out += c;
    }
  }

  private dollar(): string {
    const c = this.ch;
    if (c === "{") {
      this.i++;
      const name = this.name();
      if (!name) {
        throw invalid(`bad substitution in ${JSON.stringify(this.text)}`);
      }
      if (this.ch === "}") {
        this.i++;
        return this.vars.get(name) ?? "";
      }
      let op = this.ch ?? "";
      this.i++;
      if (op === ":") {
        op += this.ch ?? "";
        this.i++;
      }
      const word = this.word(false, "}");
      if (this.ch !== "}") {
        throw invalid(`missing '}' in ${JSON.stringify(this.text)}`);
      }
      this.i++;
      const v = this.vars.get(name);
      switch (op) {
        case ":-":
          return v ? v : word;
        case "-":
          return v !== undefined ? v : word;
        case ":+":
          return v ? word : "";
        case "+":
          return v !== undefined ? word : "";
        case ":?":
        case "?":
          if (v === undefined || (op === ":?" && v === "")) {
            throw invalid(`${name}: ${word || "is not allowed to be unset"}`);
          }
          return v;
        default:
          throw invalid(`unsupported modifier (${op}) in substitution`);
      }
    }
    const name = this.name();
    return name ? this.vars.get(name) ?? "" : "$";
  }

  private name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9]/.exec(this.text.slice(this.i));
    if (!m) return "";
    this.i += m[0].length;
    return m[0];
  }
}

/** `text` as one word: quotes removed, variables expanded. */
export function expandWord(text: string, vars: Vars, escape = "\\"): string {
  return new Lexer(text, vars, escape).word(false);
}

/** `text` split into words, each with quotes removed and variables expanded. */
export function expandWords(text: string, vars: Vars, escape = "\\"): string[] {
  return new Lexer(text, vars, escape).words();
}

/**
 * The `KEY=VALUE` pairs of ENV, LABEL and ARG (`ENV KEY VALUE`, the old
 * form, when the first word has no "="), values expanded. `bare` allows a
 * key without a value (ARG NAME), returned as undefined.
 */
export function keyValues(
  text: string,
  vars: Vars,
  escape = "\\",
  bare = false,
): [string, string | undefined][] {
  const raw = rawWords(text, escape);
  if (raw.length === 0) return [];
  if (!raw[0].includes("=") && !bare) {
    const rest = text.trim().slice(raw[0].length).trim();
    if (!rest) throw invalid(`requires at least one argument`);
    return [[expandWord(raw[0], vars, escape), expandWord(rest, vars, escape)]];
  }
  return raw.map((w) => {
    const eq = w.indexOf("=");
    if (eq < 0) {
      if (!bare) {
        throw invalid(
          `syntax error - can't find = in "${w}". Must be of the form: name=value`,
        );
      }
      return [expandWord(w, vars, escape), undefined];
    }
    return [
      expandWord(w.slice(0, eq), vars, escape),
      expandWord(w.slice(eq + 1), vars, escape),
    ];
  });
}

/** Words split at unquoted white space, quotes and escapes kept. */
function rawWords(text: string, escape: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quote && /\s/.test(c)) {
      if (cur) out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      cur += text[++i];
    } else if (quote && c === quote) quote = "";
    else if (!quote && (c === '"' || c === "'")) quote = c;
  }
  if (cur) out.push(cur);
  return out;
}

/** `["a", "b"]` as an exec form, or undefined for the shell form. */
export function execForm(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* the shell form after all, as Docker reads it */ }
  return undefined;
}
