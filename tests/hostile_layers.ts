/**
 * The corpus of hostile layers: each tries to write, link or mark something
 * outside the layer directory, at `outside` (a directory holding `secret`).
 * `refused` layers must fail as a whole; the others are legal archives whose
 * tricks (replacing a symlink by a file, a hard link to a symlink) must be
 * resolved inside the layer.
 */
import type { TarEntry } from "./fixtures.ts";

/** One hostile layer. */
export interface HostileLayer {
  name: string;
  entries: TarEntry[];
  /** Must the unpack fail? (Else it must succeed, inside the layer.) */
  refused: boolean;
}

const data = new TextEncoder().encode("pwned\n");
const file = (name: string): TarEntry => ({ name, mode: 0o644, data });
const symlink = (name: string, linkname: string): TarEntry => ({
  name,
  type: "symlink",
  linkname,
});
const hardlink = (name: string, linkname: string): TarEntry => ({
  name,
  type: "link",
  linkname,
});

/** The corpus, aimed at the absolute directory `outside`. */
export function hostileLayers(outside: string): HostileLayer[] {
  const up = "../".repeat(32);
  const refused = (name: string, entries: TarEntry[]) => ({
    name,
    entries,
    refused: true,
  });
  const allowed = (name: string, entries: TarEntry[]) => ({
    name,
    entries,
    refused: false,
  });
  return [
    refused("dotdot file", [file("../escaped")]),
    refused("dotdot deep", [file("a/b/../../../escaped")]),
    refused("dotdot to outside", [file(`${up}${outside}/escaped`)]),
    refused("absolute file", [file(`${outside}/escaped`)]),
    refused("file through absolute symlink", [
      symlink("evil", outside),
      file("evil/escaped"),
    ]),
    refused("file through relative symlink", [
      symlink("evil", `${up}${outside}`),
      file("evil/escaped"),
    ]),
    refused("file through symlink chain", [
      symlink("a", "b"),
      symlink("b", outside),
      file("a/escaped"),
    ]),
    refused("file overwriting through symlink dir", [
      symlink("evil", outside),
      file("evil/secret"),
    ]),
    refused("dir through symlink", [
      symlink("evil", outside),
      { name: "evil/newdir", type: "directory", mode: 0o755 },
    ]),
    refused("symlink through symlink", [
      symlink("evil", outside),
      symlink("evil/escaped", "/"),
    ]),
    refused("fifo through symlink", [
      symlink("evil", outside),
      { name: "evil/escaped", type: "fifo", mode: 0o644 },
    ]),
    refused("hard link dotdot", [hardlink("hl", `../${outside}/secret`)]),
    refused("hard link deep dotdot", [
      hardlink("hl", `${up}${outside}/secret`),
    ]),
    refused("hard link absolute", [hardlink("hl", `${outside}/secret`)]),
    refused("hard link through symlink", [
      symlink("evil", outside),
      hardlink("hl", "evil/secret"),
    ]),
    refused("hard link placed through symlink", [
      file("inside"),
      symlink("evil", outside),
      hardlink("evil/escaped", "inside"),
    ]),
    refused("whiteout of dotdot", [file("sub/x"), file("sub/.wh...")]),
    refused("whiteout through symlink", [
      symlink("evil", outside),
      file("evil/.wh.secret"),
    ]),
    refused("opaque through symlink", [
      symlink("evil", outside),
      file("evil/.wh..wh..opq"),
    ]),
    refused("name longer than PATH_MAX", [file("a/".repeat(2100) + "x")]),
    refused("oversized pax header", [file("d".repeat(5 * 1024 * 1024))]),
    allowed("file replacing a symlink", [
      symlink("f", `${outside}/secret`),
      file("f"),
    ]),
    allowed("dir replacing a symlink", [
      symlink("d", outside),
      { name: "d", type: "directory", mode: 0o755 },
      file("d/secret"),
    ]),
    allowed("hard link to a symlink", [
      symlink("s", `${outside}/secret`),
      hardlink("h", "s"),
    ]),
    allowed("whiteout replacing a symlink", [
      symlink("w", `${outside}/secret`),
      file(".wh.w"),
    ]),
    allowed("in-layer relative symlink dir", [
      { name: "real", type: "directory", mode: 0o755 },
      symlink("alias", "real"),
      file("alias/inside"),
    ]),
  ];
}
