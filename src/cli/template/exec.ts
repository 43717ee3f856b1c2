/**
 * Executes a parsed Go template against plain data with Go's semantics:
 * fields of structs (missing ones are errors), keys of maps (missing ones
 * `<no value>`), methods called with their arguments, pipelines passing
 * the last value on, variables scoped to their control structure, and the
 * builtins and Podman's functions (./funcs.ts). Errors read as Go's:
 * `template: NAME:LINE:COL: executing "NAME" at <NODE>: WHAT`.
 */
import { FUNCS } from "./funcs.ts";
import {
  type Cmd,
  type Control,
  type Node,
  parse,
  type Pipe,
  TemplateError,
  type Term,
} from "./parse.ts";
import {
  ArgError,
  CallError,
  kindOf,
  mapKeys,
  show,
  truth,
  typeName,
} from "./value.ts";

export { TemplateError };

/** A template that failed while it ran (not when it was parsed). */
export class ExecError extends TemplateError {}

class Break {}
class Continue {}

type Obj = Record<string, unknown>;

function termText(t: Term): string {
  switch (t.t) {
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "ident":
      return t.name;
    case "pipe":
      return `(${pipeText(t.pipe)})`;
    case "field":
      return t.on ? `${termText(t.on)}${t.text}` : t.text;
    default:
      return t.text;
  }
}

function pipeText(p: Pipe): string {
  const decl = p.vars.length
    ? `${p.vars.join(", ")} ${p.assign ? "=" : ":="} `
    : "";
  return decl + p.cmds.map((c) => c.args.map(termText).join(" ")).join(" | ");
}

class Exec {
  private vars: { name: string; value: unknown }[];
  out = "";

  constructor(private name: string, private src: string, root: unknown) {
    this.vars = [{ name: "$", value: root }];
  }

  private fail(pos: number, context: string, msg: string): never {
    const before = this.src.slice(0, pos);
    const line = before.split("\n").length;
    const col = pos - (before.lastIndexOf("\n") + 1);
    throw new ExecError(
      `template: ${this.name}:${line}:${col}: executing "${this.name}" at <${context}>: ${msg}`,
    );
  }

  list(nodes: Node[], dot: unknown) {
    for (const n of nodes) this.node(n, dot);
  }

  private node(n: Node, dot: unknown) {
    switch (n.t) {
      case "text":
        this.out += n.text;
        return;
      case "action": {
        const v = this.pipe(n.pipe, dot);
        if (n.pipe.vars.length === 0) this.out += this.printable(v, n.pipe);
        return;
      }
      case "break":
        throw new Break();
      case "continue":
        throw new Continue();
      case "if":
      case "with": {
        const mark = this.vars.length;
        const v = this.pipe(n.pipe, dot);
        if (truth(v)) this.list(n.list, n.t === "with" ? v : dot);
        else if (n.else) this.list(n.else, dot);
        this.vars.length = mark;
        return;
      }
      case "range":
        return this.range(n, dot);
    }
  }

  private printable(v: unknown, p: Pipe): string {
    if (typeof v === "function") {
      this.fail(p.pos, pipeText(p), "can't print value of function type");
    }
    return show(v);
  }

  private range(n: Control, dot: unknown) {
    const mark = this.vars.length;
    const v = this.pipe(n.pipe, dot, true);
    let entries: [unknown, unknown][];
    switch (kindOf(v)) {
      case "slice":
        entries = (v as unknown[]).map((x, i) => [i, x]);
        break;
      case "map":
        entries = mapKeys(v as object).map((k) => [k, (v as Obj)[k]]);
        break;
      case "invalid":
      case "nil":
        entries = [];
        break;
      case "int":
        entries = [...Array(Math.max(0, v as number)).keys()].map((
          i,
        ) => [i, i]);
        break;
      default:
        this.fail(
          n.pipe.pos,
          pipeText(n.pipe),
          `range can't iterate over ${show(v)}`,
        );
    }
    const body = this.vars.length;
    for (const [k, x] of entries) {
      const decl = n.pipe.vars;
      if (decl.length === 1) this.vars[mark].value = x;
      if (decl.length === 2) {
        this.vars[mark].value = k;
        this.vars[mark + 1].value = x;
      }
      try {
        this.list(n.list, x);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = body;
      }
    }
    if (entries.length === 0 && n.else) this.list(n.else, dot);
    this.vars.length = mark;
  }

  private pipe(p: Pipe, dot: unknown, isRange = false): unknown {
    let v: unknown = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = this.cmd(c, dot, first ? [] : [v]);
      first = false;
    }
    if (p.assign) {
      for (const name of p.vars) {
        const slot = this.vars.findLast((x) => x.name === name)!;
        slot.value = v;
      }
    } else if (isRange) {
      for (const name of p.vars) this.vars.push({ name, value: undefined });
    } else {
      for (const name of p.vars) this.vars.push({ name, value: v });
    }
    return v;
  }

  private cmd(c: Cmd, dot: unknown, final: unknown[]): unknown {
    const [head, ...rest] = c.args;
    const text = c.args.map(termText).join(" ");
    if (head.t === "ident") {
      if (head.name === "and" || head.name === "or") {
        return this.andOr(head.name, rest, dot, final, c.pos, text);
      }
      const fn = FUNCS[head.name];
      if (!fn) this.fail(head.pos, text, `function "${head.name}" not defined`);
      const args = [...rest.map((a) => this.arg(a, dot)), ...final];
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof ArgError && e.index < rest.length) {
          const a = rest[e.index];
          this.fail(a.pos, termText(a), e.message);
        }
        if (!(e instanceof CallError)) throw e;
        this.fail(head.pos, text, `error calling ${head.name}: ${e.message}`);
      }
    }
    if (head.t === "field" || head.t === "var") {
      const args = [...rest.map((a) => this.arg(a, dot)), ...final];
      return this.chain(head, dot, args);
    }
    if (rest.length > 0 || final.length > 0) {
      this.fail(
        head.pos,
        text,
        `can't give argument to non-function ${termText(head)}`,
      );
    }
    return this.arg(head, dot);
  }

  private andOr(
    op: "and" | "or",
    args: Term[],
    dot: unknown,
    final: unknown[],
    pos: number,
    text: string,
  ): unknown {
    const n = args.length + final.length;
    if (n < 1) {
      this.fail(
        pos,
        text,
        `wrong number of args for ${op}: want at least 1 got 0`,
      );
    }
    let v: unknown;
    for (let i = 0; i < n; i++) {
      v = i < args.length ? this.arg(args[i], dot) : final[i - args.length];
      if (truth(v) === (op === "or")) return v;
    }
    return v;
  }

  private arg(t: Term, dot: unknown): unknown {
    switch (t.t) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "const":
        return t.value;
      case "pipe": {
        const mark = this.vars.length;
        const v = this.pipe(t.pipe, dot);
        this.vars.length = mark;
        return v;
      }
      case "ident": {
        const fn = FUNCS[t.name];
        if (!fn) this.fail(t.pos, t.name, `function "${t.name}" not defined`);
        try {
          return fn();
        } catch (e) {
          if (!(e instanceof CallError)) throw e;
          this.fail(t.pos, t.name, `error calling ${t.name}: ${e.message}`);
        }
        break;
      }
      default:
        return this.chain(t, dot, []);
    }
  }

  /** A field chain on dot, a variable or a pipeline; args go to its end. */
  private chain(
    t: Extract<Term, { t: "field" | "var" }>,
    dot: unknown,
    args: unknown[],
  ): unknown {
    let v: unknown;
    if (t.t === "var") {
      v = this.vars.findLast((x) => x.name === t.name)?.value;
    } else {
      v = t.on ? this.arg(t.on, dot) : dot;
    }
    // Go blames the chain up to the failing name, at that name.
    let pos = t.pos + (t.t === "var" ? t.name.length : 0);
    t.names.forEach((name, i) => {
      const last = i === t.names.length - 1;
      v = this.field(v, name, last ? args : [], t, last, pos);
      pos += name.length + 1;
    });
    if (t.names.length === 0 && args.length > 0) {
      this.fail(
        t.pos,
        termText(t),
        `can't give argument to non-function ${termText(t)}`,
      );
    }
    return v;
  }

  private field(
    v: unknown,
    name: string,
    args: unknown[],
    t: Term,
    last: boolean,
    pos: number,
  ): unknown {
    const k = kindOf(v);
    const text = termText(t);
    const fail = (msg: string) => this.fail(pos, text, msg);
    if (k === "map") {
      if (args.length > 0) fail(`${name} is not a method but has arguments`);
      return (v as Obj)[name];
    }
    if (k === "nil" || k === "invalid") {
      fail(`nil pointer evaluating interface {}.${name}`);
    }
    if (k !== "struct" || !Object.hasOwn(v as Obj, name)) {
      fail(`can't evaluate field ${name} in type ${typeName(v)}`);
    }
    const f = (v as Obj)[name];
    if (typeof f === "function") {
      try {
        return f(...args);
      } catch (e) {
        if (!(e instanceof CallError)) throw e;
        fail(`error calling ${name}: ${e.message}`);
      }
    }
    if (args.length > 0 && last) {
      fail(`${name} has arguments but cannot be invoked as function`);
    }
    return f;
  }
}

/** A parsed template, ready to run on many values. */
export class Template {
  private nodes: Node[];

  /** Parses `src`; a TemplateError says why it cannot be. */
  constructor(private name: string, private src: string) {
    this.nodes = parse(name, src, { ...FUNCS, and: 1, or: 1 });
  }

  /** The text the template makes of `data`. */
  execute(data: unknown): string {
    const x = new Exec(this.name, this.src, data);
    try {
      x.list(this.nodes, data);
    } catch (e) {
      if (e instanceof Break || e instanceof Continue) return x.out;
      throw e;
    }
    return x.out;
  }
}

/** Podman's EnforceRange test: the format ranges over the list itself. */
const RANGE = /\{\{\s*range\s*\.\s*\}\}[\s\S]*\{\{\s*-?\s*end\s*-?\s*\}\}/;

/**
 * Podman's report.Formatter.Parse: the escapes \\t and \\n become what they
 * say (and when that breaks the template, as in {{printf "\\n"}}, the text
 * is parsed as given), `table` also turns spaces into column breaks, a
 * newline ends each item, and the template ranges over the list (unless
 * not `ranged`: Podman's version and info run it on one object).
 */
export function parseFormat(
  name: string,
  format: string,
  ranged = true,
): Template {
  const escaped = format.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  let text = format.startsWith("table ")
    ? escaped.replace(/^table /, "").replaceAll(" ", "\t")
    : escaped;
  if (!text.endsWith("\n")) text += "\n";
  const wrap = (s: string) =>
    !ranged || RANGE.test(s) ? s : `{{range .}}${s}{{end -}}`;
  try {
    return new Template(name, wrap(text));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return new Template(name, wrap(format));
  }
}
