/**
 * Pax extended headers with binary values, which tar-stream cannot write
 * (its pax writer takes text, and it gives no body to an `x` entry): what
 * a layer needs for extended attributes (`SCHILY.xattr.NAME`, the form
 * Go's archive/tar, Podman and ptd's own tar reader read), such as a file
 * capability.
 */

/** The key of an extended attribute's pax record. */
export const PAX_XATTR = "SCHILY.xattr.";

/**
 * The body of a pax header: records "LEN KEY=VALUE\n", LEN counting the
 * whole record, itself included; values are bytes.
 */
export function paxRecords(records: Record<string, Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const parts = Object.entries(records).map(([key, value]) => {
    const tail = new Uint8Array([...enc.encode(` ${key}=`), ...value, 0x0a]);
    let len = tail.length + 1;
    while (String(len).length + tail.length > len) len++;
    return new Uint8Array([...enc.encode(String(len)), ...tail]);
  });
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

/**
 * A pax header entry (typeflag "x") holding `body`, padded to whole
 * blocks: it applies to the entry that follows it.
 */
export function paxEntry(body: Uint8Array): Uint8Array {
  const block = new Uint8Array(512 + Math.ceil(body.length / 512) * 512);
  const enc = new TextEncoder();
  const field = (at: number, text: string) => block.set(enc.encode(text), at);
  field(0, "PaxHeader");
  field(100, "0000644\0");
  field(108, "0000000\0");
  field(116, "0000000\0");
  field(124, `${body.length.toString(8).padStart(11, "0")}\0`);
  field(136, "00000000000\0");
  field(148, "        ");
  field(156, "x");
  field(257, "ustar\x0000");
  const sum = block.subarray(0, 512).reduce((n, b) => n + b, 0);
  field(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  block.set(body, 512);
  return block;
}

/**
 * Writes through `push` (a tar-stream pack's) the pax header of an entry
 * named `name` with the extended attributes `xattrs` (pax keys), if it has
 * any; returns the name to give tar-stream for the entry: a short one when
 * the pax header carries the real one, so that tar-stream writes no pax
 * header of its own (a second one would replace ours in Go's reader).
 */
export function pushXattrs(
  push: (block: Uint8Array) => void,
  name: string,
  xattrs: Record<string, Uint8Array>,
): string {
  if (Object.keys(xattrs).length === 0) return name;
  const path = new TextEncoder().encode(name);
  push(paxEntry(paxRecords({ ...xattrs, path })));
  return "xattrs";
}
