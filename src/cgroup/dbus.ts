/**
 * The few D-Bus messages ptd sends to the user's systemd manager, spoken
 * over its unix socket: EXTERNAL authentication with our uid, Hello, a
 * match for JobRemoved, and method calls with their replies. A client of
 * our own rather than an npm one: the npm clients (dbus-next,
 * dbus-native) are no longer maintained and load node's net and event
 * machinery into the container's parent for four messages; this is the
 * little-endian wire format of the D-Bus specification, nothing more.
 */

/** A variant: its signature and its value. */
export type Variant = [string, unknown];

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The signature of one complete type starting at `sig[i]`; its end. */
function oneType(sig: string, i: number): number {
  const c = sig[i];
  if (c === "a") return oneType(sig, i + 1);
  if (c === "(" || c === "{") {
    const close = c === "(" ? ")" : "}";
    let j = i + 1;
    while (sig[j] !== close) j = oneType(sig, j);
    return j + 1;
  }
  return i + 1;
}

/** The complete types of a signature. */
function types(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length;) {
    const end = oneType(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

const ALIGN: Record<string, number> = {
  y: 1,
  b: 4,
  n: 2,
  q: 2,
  i: 4,
  u: 4,
  x: 8,
  t: 8,
  d: 8,
  s: 4,
  o: 4,
  g: 1,
  a: 4,
  "(": 8,
  "{": 8,
  v: 1,
  h: 4,
};

/** Builds a message body, aligned as the specification says. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  align(n: number) {
    const pad = (n - this.len % n) % n;
    this.room(pad);
    this.len += pad;
  }
  u8(v: number) {
    this.room(1);
    this.buf[this.len++] = v;
  }
  u32(v: number) {
    this.align(4);
    this.room(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }
  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  write(type: string, v: unknown): void {
    const c = type[0];
    switch (c) {
      case "y":
        return this.u8(v as number);
      case "b":
        return this.u32(v ? 1 : 0);
      case "i":
      case "u":
        this.align(4);
        this.room(4);
        if (c === "i") this.view.setInt32(this.len, v as number, true);
        else this.view.setUint32(this.len, v as number, true);
        this.len += 4;
        return;
      case "t":
      case "x":
        this.align(8);
        this.room(8);
        if (c === "t") {
          this.view.setBigUint64(this.len, BigInt(v as number | bigint), true);
        } else {
          this.view.setBigInt64(this.len, BigInt(v as number | bigint), true);
        }
        this.len += 8;
        return;
      case "s":
      case "o": {
        const b = enc.encode(v as string);
        this.u32(b.length);
        this.bytes(b);
        return this.u8(0);
      }
      case "g": {
        const b = enc.encode(v as string);
        this.u8(b.length);
        this.bytes(b);
        return this.u8(0);
      }
      case "v": {
        const [sig, value] = v as Variant;
        this.write("g", sig);
        return this.write(sig, value);
      }
      case "a": {
        const inner = type.slice(1);
        this.u32(0);
        const lenAt = this.len - 4;
        this.align(ALIGN[inner[0]]);
        const start = this.len;
        for (const item of v as unknown[]) this.write(inner, item);
        this.view.setUint32(lenAt, this.len - start, true);
        return;
      }
      case "(":
      case "{": {
        this.align(8);
        const fields = types(type.slice(1, -1));
        fields.forEach((t, i) => this.write(t, (v as unknown[])[i]));
        return;
      }
    }
    throw new Error(`D-Bus: type ${type} is not supported`);
  }
}

/** Reads a message body (offsets count from the message's start). */
class Reader {
  view: DataView;
  constructor(public buf: Uint8Array, public pos: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  align(n: number) {
    this.pos += (n - this.pos % n) % n;
  }
  read(type: string): unknown {
    const c = type[0];
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case "y":
        return this.buf[this.pos++];
      case "b":
      case "u":
      case "h": {
        const v = this.view.getUint32(this.pos, true);
        this.pos += 4;
        return c === "b" ? v !== 0 : v;
      }
      case "i": {
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case "t":
      case "x": {
        const v = c === "t"
          ? this.view.getBigUint64(this.pos, true)
          : this.view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case "s":
      case "o":
      case "g": {
        const n = c === "g"
          ? this.buf[this.pos++]
          : (this.pos += 4, this.view.getUint32(this.pos - 4, true));
        const s = dec.decode(this.buf.subarray(this.pos, this.pos + n));
        this.pos += n + 1;
        return s;
      }
      case "v": {
        const sig = this.read("g") as string;
        return [sig, this.read(sig)];
      }
      case "a": {
        const n = this.read("u") as number;
        const inner = type.slice(1);
        this.align(ALIGN[inner[0]]);
        const end = this.pos + n;
        const out: unknown[] = [];
        while (this.pos < end) out.push(this.read(inner));
        return out;
      }
      case "(":
      case "{":
        return types(type.slice(1, -1)).map((t) => this.read(t));
    }
    throw new Error(`D-Bus: type ${type} is not supported`);
  }
}

/** A message as received. */
export interface Message {
  type: number;
  serial: number;
  replySerial?: number;
  path?: string;
  member?: string;
  errorName?: string;
  body: unknown[];
}

/** A method call: where it goes, and its arguments of signature `sig`. */
export interface MethodCall {
  dest: string;
  path: string;
  iface: string;
  member: string;
  sig?: string;
  args?: unknown[];
}

/** The bus itself, as a destination. */
const DBUS = {
  dest: "org.freedesktop.DBus",
  path: "/org/freedesktop/DBus",
  iface: "org.freedesktop.DBus",
};

const METHOD_CALL = 1, METHOD_RETURN = 2, ERROR = 3, SIGNAL = 4;

/** A connection to a bus, authenticated and said Hello to. */
export class Bus {
  private serial = 0;
  private pending = new Uint8Array(0);
  private constructor(private conn: Deno.UnixConn) {}

  /** Connects to the unix socket `path` as the calling user. */
  static async connect(path: string): Promise<Bus> {
    const conn = await Deno.connect({ transport: "unix", path });
    const bus = new Bus(conn);
    try {
      const uid = enc.encode(String(Deno.uid()));
      const hex = [...uid].map((b) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      await bus.write(enc.encode(`\0AUTH EXTERNAL ${hex}\r\n`));
      const answer = await bus.line();
      if (!answer.startsWith("OK ")) {
        throw new Error(`D-Bus authentication refused: ${answer}`);
      }
      await bus.write(enc.encode("BEGIN\r\n"));
      await bus.call({ ...DBUS, member: "Hello" });
    } catch (e) {
      conn.close();
      throw e;
    }
    return bus;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  private async fill(): Promise<void> {
    const chunk = new Uint8Array(4096);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("D-Bus: the bus closed the connection");
    const next = new Uint8Array(this.pending.length + n);
    next.set(this.pending);
    next.set(chunk.subarray(0, n), this.pending.length);
    this.pending = next;
  }

  private async line(): Promise<string> {
    for (;;) {
      const at = this.pending.indexOf(0x0a);
      if (at >= 0) {
        const text = dec.decode(this.pending.subarray(0, at)).trim();
        this.pending = this.pending.slice(at + 1);
        return text;
      }
      await this.fill();
    }
  }

  /** The next message from the bus. */
  async receive(): Promise<Message> {
    while (this.pending.length < 16) await this.fill();
    const view = new DataView(this.pending.buffer);
    const bodyLen = view.getUint32(4, true);
    const fieldsLen = view.getUint32(12, true);
    const headerEnd = 16 + fieldsLen + (8 - (16 + fieldsLen) % 8) % 8;
    while (this.pending.length < headerEnd + bodyLen) await this.fill();
    const msg = this.pending.slice(0, headerEnd + bodyLen);
    this.pending = this.pending.slice(headerEnd + bodyLen);
    const r = new Reader(msg, 12);
    const fields = new Map(
      (r.read("a(yv)") as [number, Variant][]).map(([k, [, v]]) => [k, v]),
    );
    const sig = (fields.get(8) as string | undefined) ?? "";
    const body = new Reader(msg, headerEnd);
    return {
      type: msg[1],
      serial: new DataView(msg.buffer).getUint32(8, true),
      path: fields.get(1) as string | undefined,
      member: fields.get(3) as string | undefined,
      errorName: fields.get(4) as string | undefined,
      replySerial: fields.get(5) as number | undefined,
      body: types(sig).map((t) => body.read(t)),
    };
  }

  /** Asks the bus for the signals `rule` matches. */
  async addMatch(rule: string): Promise<void> {
    await this.call({ ...DBUS, member: "AddMatch", sig: "s", args: [rule] });
  }

  /** Sends a method call; its serial. */
  async send(c: MethodCall): Promise<number> {
    const sig = c.sig ?? "";
    const body = new Writer();
    types(sig).forEach((t, i) => body.write(t, c.args?.[i]));
    const serial = ++this.serial;
    const fields: [number, Variant][] = [
      [1, ["o", c.path]],
      [2, ["s", c.iface]],
      [3, ["s", c.member]],
      [6, ["s", c.dest]],
    ];
    if (sig) fields.push([8, ["g", sig]]);
    const head = new Writer();
    for (const b of [0x6c, METHOD_CALL, 0, 1]) head.u8(b);
    head.u32(body.len);
    head.u32(serial);
    head.write("a(yv)", fields);
    head.align(8);
    head.bytes(body.buf.subarray(0, body.len));
    await this.write(head.buf.subarray(0, head.len));
    return serial;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      at += await this.conn.write(bytes.subarray(at));
    }
  }

  /**
   * Calls a method and returns its reply's body; a D-Bus error is thrown.
   * Signals that come meanwhile go to `onSignal`.
   */
  async call(
    c: MethodCall,
    onSignal?: (m: Message) => void,
  ): Promise<unknown[]> {
    const serial = await this.send(c);
    for (;;) {
      const m = await this.receive();
      if (m.type === SIGNAL) onSignal?.(m);
      if (m.replySerial !== serial) continue;
      if (m.type === ERROR) {
        throw new Error(`${m.errorName}: ${m.body[0] ?? ""}`);
      }
      if (m.type === METHOD_RETURN) return m.body;
    }
  }
}
