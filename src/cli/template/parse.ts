/**
 * The parser of Go's text/template language, as Podman's --format uses it:
 * text, actions with trim markers (`{{-`, `-}}`) and comments, pipelines
 * with variables, if/else if/else, range (with else, break, continue),
 * with/else, fields, variables, constants and parenthesised pipelines.
 * Error messages and positions are Go's, so a script sees the same text.
 */

/** A node's byte offset in the template, for Go's "NAME:LINE:COL" errors. */
interface At {
  pos: number;
}

/** One operand of a command. */
export type Term =
  | At & { t: "dot" }
  | At & { t: "nil" }
  | At & { t: "const"; value: string | number | boolean; text: string }
  | At & { t: "field"; on?: Term; names: string[]; text: string }
  | At & { t: "var"; name: string; names: string[]; text: string }
  | At & { t: "ident"; name: string }
  | At & { t: "pipe"; pipe: Pipe };

/** A command: a function or a value, and its arguments. */
export interface Cmd extends At {
  args: Term[];
}

/** A pipeline, with the variables it declares (`$x :=`) or assigns. */
export interface Pipe extends At {
  vars: string[];
  assign: boolean;
  cmds: Cmd[];
}

/** A parsed template: a list of nodes. */
export type Node =
  | { t: "text"; text: string }
  | At & { t: "action"; pipe: Pipe }
  | Control
  | At & { t: "break" | "continue" };

/** if, with or range: a pipeline, its list and the else list. */
export interface Control extends At {
  t: "if" | "with" | "range";
  pipe: Pipe;
  list: Node[];
  else?: Node[];
}

type Tok =
  | {
    k: "word" | "field" | "var" | "str" | "num" | "char";
    v: string;
    p: number;
  }
  | { k: "(" | ")" | "|" | ":=" | "=" | "," | "end"; v: string; p: number };

/** A template that cannot be parsed; the message is Go's. */
export class TemplateError extends Error {}

function lineOf(src: string, pos: number): number {
  return src.slice(0, pos).split("\n").length;
}

const SPACE = /[ \t\r\n]/;

/** The tokens of one action's inside (between the delimiters). */
function lexAction(src: string, start: number, end: number, fail: Fail): Tok[] {
  const toks: Tok[] = [];
  let i = start;
  const ident = /[A-Za-z0-9_]/;
  while (i < end) {
    const c = src[i];
    if (SPACE.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === "|" || c === ",") {
      toks.push({ k: c, v: c, p: i++ });
    } else if (c === ":" && src[i + 1] === "=") {
      toks.push({ k: ":=", v: ":=", p: i });
      i += 2;
    } else if (c === "=") {
      toks.push({ k: "=", v: "=", p: i++ });
    } else if (c === '"' || c === "`" || c === "'") {
      let j = i + 1;
      while (j < end && src[j] !== c) {
        if (c !== "`" && src[j] === "\\") j++;
        if (c !== "`" && src[j] === "\n") fail(i, "unterminated quoted string");
        j++;
      }
      if (j >= end) {
        fail(
          i,
          c === "`"
            ? "unterminated raw quoted string"
            : "unterminated quoted string",
        );
      }
      toks.push({
        k: c === "'" ? "char" : "str",
        v: src.slice(i, j + 1),
        p: i,
      });
      i = j + 1;
    } else if (c === "." || c === "$") {
      let j = i + 1;
      if (c === "." && /[0-9]/.test(src[j] ?? "")) {
        // a number such as .5
      } else {
        while (j < end && (ident.test(src[j]) || src[j] === ".")) j++;
        toks.push({ k: c === "$" ? "var" : "field", v: src.slice(i, j), p: i });
        i = j;
        continue;
      }
    } else if (/[0-9+\-]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1]))) {
      let j = i + 1;
      while (j < end && /[0-9A-Za-z_.+\-]/.test(src[j])) {
        if ((src[j] === "+" || src[j] === "-") && !/[eEpP]/.test(src[j - 1])) {
          break;
        }
        j++;
      }
      toks.push({ k: "num", v: src.slice(i, j), p: i });
      i = j;
    } else if (ident.test(c)) {
      let j = i;
      while (j < end && ident.test(src[j])) j++;
      toks.push({ k: "word", v: src.slice(i, j), p: i });
      i = j;
    } else {
      fail(i, `unexpected ${JSON.stringify(c)} in command`);
    }
  }
  toks.push({ k: "end", v: "", p: end });
  return toks;
}

type Fail = (pos: number, msg: string) => never;

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

function unquote(s: string, fail: () => never): string {
  if (s[0] === "`") return s.slice(1, -1);
  return s.slice(1, -1).replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g,
    (_, e: string) => {
      if (e.length > 1) {
        const radix = /^[0-7]/.test(e) ? 8 : 16;
        return String.fromCodePoint(
          parseInt(radix === 8 ? e : e.slice(1), radix),
        );
      }
      return ESCAPES[e] ?? fail();
    },
  );
}

function number(s: string): number | undefined {
  const clean = s.replace(/_/g, "");
  const m = /^([+-]?)0([xob])(.+)$/i.exec(clean);
  const n = m
    ? (m[1] === "-" ? -1 : 1) *
      parseInt(m[3], { x: 16, o: 8, b: 2 }[m[2].toLowerCase()]!)
    : /^[+-]?0[0-7]+$/.test(clean)
    ? parseInt(clean, 8)
    : Number(clean);
  return Number.isNaN(n) || clean === "" ? undefined : n;
}

/**
 * Parses `src`; `name` is the template's name in error messages, `funcs`
 * the functions it may call (Go refuses an unknown one when parsing).
 */
export function parse(
  name: string,
  src: string,
  funcs: Record<string, unknown>,
): Node[] {
  const fail: Fail = (pos, msg) => {
    throw new TemplateError(
      `template: ${name}:${lineOf(src, pos)}: ${msg}`,
    );
  };
  // Split into text and action token lists, applying trim markers.
  type Piece = { text: string } | { toks: Tok[]; p: number };
  const pieces: Piece[] = [];
  let i = 0;
  while (i < src.length) {
    let open = src.indexOf("{{", i);
    if (open < 0) open = src.length;
    let text = src.slice(i, open);
    if (open === src.length) {
      pieces.push({ text });
      break;
    }
    let inner = open + 2;
    if (src[inner] === "-" && SPACE.test(src[inner + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      inner += 2;
    }
    if (text) pieces.push({ text });
    const comment = src.slice(inner).replace(/^[ \t\r\n]*/, "");
    let close: number;
    if (comment.startsWith("/*")) {
      const cstart = src.indexOf("/*", inner);
      const cend = src.indexOf("*/", cstart + 2);
      if (cend < 0) fail(open, "unclosed comment");
      close = src.indexOf("}}", cend + 2);
      if (close < 0 || src.slice(cend + 2, close).trim().replace(/^-$/, "")) {
        fail(open, "comment ends before closing delimiter");
      }
    } else {
      close = findClose(src, inner);
      if (close < 0) fail(open, "unclosed action");
    }
    let end = close;
    let after = close + 2;
    if (src[close - 1] === "-" && SPACE.test(src[close - 2] ?? "")) {
      end = close - 2;
      after = src.slice(after).search(/[^ \t\r\n]|$/) + after;
    }
    if (!comment.startsWith("/*")) {
      pieces.push({ toks: lexAction(src, inner, end, fail), p: open });
    }
    i = after;
  }
  return new Parser(pieces, fail, funcs).top();
}

/** The index of the `}}` closing an action that starts at `from`. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < src.length && src[i] !== c; i++) {
        if (c !== "`" && src[i] === "\\") i++;
      }
    } else if (c === "}" && src[i + 1] === "}") {
      return i;
    }
  }
  return -1;
}

class Parser {
  private at = 0;
  private toks: Tok[] = [];
  private ti = 0;
  private vars: string[][] = [["$"]];

  constructor(
    private pieces: ({ text: string } | { toks: Tok[]; p: number })[],
    private fail: Fail,
    private funcs: Record<string, unknown>,
  ) {}

  top(): Node[] {
    const [list, stop] = this.list();
    if (stop) this.fail(stop.p, `unexpected {{${stop.v}}}`);
    return list;
  }

  /** Nodes up to an `{{end}}` or `{{else ...}}`, returned as the stopper. */
  private list(): [Node[], Tok | undefined] {
    const out: Node[] = [];
    while (this.at < this.pieces.length) {
      const piece = this.pieces[this.at++];
      if ("text" in piece) {
        out.push({ t: "text", text: piece.text });
        continue;
      }
      this.toks = piece.toks;
      this.ti = 0;
      const first = this.toks[0];
      if (first.k === "end") this.fail(piece.p, "missing value for command");
      if (first.k === "word") {
        switch (first.v) {
          case "end":
          case "else":
            this.ti++;
            return [out, first];
          case "if":
          case "with":
          case "range":
            this.ti++;
            out.push(this.control(first.v, piece.p));
            continue;
          case "break":
          case "continue":
            this.expectEnd(first.v);
            out.push({ t: first.v, pos: first.p });
            continue;
          case "define":
          case "template":
          case "block":
            this.fail(first.p, `${first.v} is not supported by --format`);
        }
      }
      out.push({ t: "action", pos: piece.p, pipe: this.pipe(false) });
    }
    return [out, undefined];
  }

  private expectEnd(ctx: string) {
    const t = this.toks[++this.ti];
    if (t.k !== "end") this.fail(t.p, `unexpected ${t.v} in ${ctx}`);
  }

  private control(kind: "if" | "with" | "range", pos: number): Node {
    this.vars.push([]);
    const pipe = this.pipe(kind === "range", undefined, kind);
    const [list, stop] = this.list();
    let elseList: Node[] | undefined;
    if (!stop) this.fail(pos, `unexpected EOF`);
    if (stop.v === "else") {
      const next = this.toks[this.ti];
      if (next.k === "word" && (next.v === "if" || next.v === "with")) {
        // `else if`: the rest of this action starts a nested control that
        // shares this one's {{end}}.
        this.ti++;
        elseList = [this.control(next.v, next.p)];
      } else {
        if (next.k !== "end") this.fail(next.p, `unexpected ${next.v} in else`);
        const [l, s] = this.list();
        if (!s || s.v !== "end") this.fail(pos, `expected end; found EOF`);
        if (this.toks[this.ti].k !== "end") {
          this.fail(s.p, `unexpected ${this.toks[this.ti].v} in end`);
        }
        elseList = l;
      }
    } else if (this.toks[this.ti].k !== "end") {
      this.fail(stop.p, `unexpected ${this.toks[this.ti].v} in end`);
    }
    this.vars.pop();
    return { t: kind, pos, pipe, list, else: elseList };
  }

  private peek(): Tok {
    return this.toks[this.ti];
  }

  private pipe(allowTwo: boolean, close?: string, ctx = "command"): Pipe {
    const start = this.peek();
    const vars: string[] = [];
    let assign = false;
    // Variable declarations: `$x :=`, `$x =`, or `$i, $e :=` in a range.
    const save = this.ti;
    while (this.peek().k === "var" && !this.peek().v.includes(".", 1)) {
      const v = this.toks[this.ti++];
      const op = this.peek();
      if (op.k === ":=" || op.k === "=") {
        vars.push(v.v);
        assign = op.k === "=";
        this.ti++;
        break;
      }
      if (op.k === "," && allowTwo && vars.length === 0) {
        vars.push(v.v);
        this.ti++;
        continue;
      }
      vars.length = 0;
      this.ti = save;
      break;
    }
    if (vars.length > 0) {
      if (assign) {
        for (const v of vars) this.known(v, start.p);
      } else this.vars[this.vars.length - 1].push(...vars);
    }
    const cmds: Cmd[] = [];
    for (;;) {
      const cmd: Cmd = { pos: this.peek().p, args: [] };
      for (;;) {
        const t = this.peek();
        if (t.k === "end" || t.k === "|" || t.k === ")") break;
        cmd.args.push(this.term());
      }
      if (cmd.args.length === 0) {
        this.fail(this.peek().p, `missing value for ${ctx}`);
      }
      cmds.push(cmd);
      const t = this.peek();
      if (t.k === "|") {
        this.ti++;
        continue;
      }
      if (close ? t.k !== ")" : t.k !== "end") {
        this.fail(
          t.p,
          t.k === "end"
            ? "unclosed left paren"
            : `unexpected "${t.v}" in operand`,
        );
      }
      break;
    }
    for (const c of cmds.slice(1)) {
      const a = c.args[0];
      if (a.t === "const" || a.t === "nil" || a.t === "dot") {
        this.fail(a.pos, `non executable command in pipeline stage 2`);
      }
    }
    return { pos: start.p, vars, assign, cmds };
  }

  private known(name: string, pos: number) {
    const base = name.split(".")[0];
    if (!this.vars.some((s) => s.includes(base))) {
      this.fail(pos, `undefined variable "${base}"`);
    }
  }

  private term(): Term {
    const t = this.toks[this.ti++];
    let term: Term;
    switch (t.k) {
      case "field":
        term = t.v === "."
          ? { t: "dot", pos: t.p }
          : { t: "field", pos: t.p, names: t.v.slice(1).split("."), text: t.v };
        break;
      case "var": {
        const [name, ...names] = t.v.split(".");
        this.known(name, t.p);
        term = { t: "var", pos: t.p, name, names, text: t.v };
        break;
      }
      case "str":
        term = {
          t: "const",
          pos: t.p,
          text: t.v,
          value: unquote(t.v, () => this.fail(t.p, `invalid syntax`)),
        };
        break;
      case "char": {
        const s = unquote(t.v, () => this.fail(t.p, `invalid syntax`));
        term = { t: "const", pos: t.p, text: t.v, value: s.codePointAt(0)! };
        break;
      }
      case "num": {
        const n = number(t.v);
        if (n === undefined) this.fail(t.p, `bad number syntax: "${t.v}"`);
        term = { t: "const", pos: t.p, text: t.v, value: n };
        break;
      }
      case "word":
        term = t.v === "true" || t.v === "false"
          ? { t: "const", pos: t.p, text: t.v, value: t.v === "true" }
          : t.v === "nil"
          ? { t: "nil", pos: t.p }
          : { t: "ident", pos: t.p, name: t.v };
        if (term.t === "ident" && !Object.hasOwn(this.funcs, t.v)) {
          this.fail(t.p, `function "${t.v}" not defined`);
        }
        break;
      case "(": {
        const pipe = this.pipe(false, ")");
        this.ti++;
        term = { t: "pipe", pos: t.p, pipe };
        break;
      }
      default:
        this.fail(t.p, `unexpected "${t.v}" in operand`);
    }
    // A field chain on a parenthesised pipeline: (index .X 0).Name
    const next = this.peek();
    if (
      term.t === "pipe" && next.k === "field" && next.p === this.prevEnd()
    ) {
      this.ti++;
      return {
        t: "field",
        pos: next.p,
        on: term,
        names: next.v.slice(1).split("."),
        text: next.v,
      };
    }
    return term;
  }

  private prevEnd(): number {
    const prev = this.toks[this.ti - 1];
    return prev.p + prev.v.length;
  }
}
