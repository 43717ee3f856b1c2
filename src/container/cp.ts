/**
 * `cp` between a running container and the host, both directions, through
 * tar: the container's own tar runs in it by `exec` (so every path is
 * resolved inside its root by the kernel, never joined to a host path), the
 * host's tar on our side. Modes are kept; files going in belong to the
 * container's root, files coming out to the calling user.
 */
import { notFound } from "../runtime/errors.ts";
import { closeFd, inheritablePipe, pipeFromChild } from "../../ffi/fd.ts";
import type { ContainerConfig } from "./config.ts";
import { execWithStdio as exec } from "./exec.ts";
import type { ContainerStore } from "./store.ts";

const split = (p: string) => {
  const clean = p.replace(/\/+$/, "") || "/";
  const i = clean.lastIndexOf("/");
  return {
    dir: i <= 0 ? (clean.startsWith("/") ? "/" : ".") : clean.slice(0, i),
    base: clean.slice(i + 1) || ".",
  };
};

/** The host tar's arguments that land `base` as `dest` (dir or new name). */
function landing(base: string, dest: string, destIsDir: boolean) {
  if (destIsDir) return { dir: dest, rename: [] as string[] };
  const d = split(dest);
  return {
    dir: d.dir,
    rename: [`--transform=s,^${escapeSed(base)},${escapeSed(d.base)},`],
  };
}

const escapeSed = (s: string) => s.replace(/[\\,.*[\]^$&]/g, "\\$&");

function hostTar(
  args: string[],
  stdin: "piped" | "null",
  stdout: "piped" | "null",
) {
  return new Deno.Command("tar", { args, stdin, stdout, stderr: "piped" })
    .spawn();
}

/** Copies `src` out of the container to the host path `dest`. */
export async function copyFromContainer(
  store: ContainerStore,
  c: ContainerConfig,
  src: string,
  dest: string,
): Promise<void> {
  if (await exec(store, c, ["test", "-e", src], [0, 1, 2]) !== 0) {
    throw notFound(`${c.name}:${src}: no such file or directory`);
  }
  const s = split(src);
  let destIsDir = false;
  try {
    destIsDir = Deno.statSync(dest).isDirectory;
  } catch { /* a new name */ }
  const land = landing(s.base, dest, destIsDir);
  const pipe = pipeFromChild(true);
  const tar = hostTar(
    ["-xpf", "-", "-C", land.dir, ...land.rename],
    "piped",
    "null",
  );
  const feed = pipe.file.readable.pipeTo(tar.stdin);
  const code = await exec(store, c, ["tar", "-C", s.dir, "-cf", "-", s.base], [
    0,
    pipe.write,
    2,
  ]);
  await feed;
  const out = await tar.output();
  if (code !== 0) {
    throw new Error(
      `copying ${src} out of ${c.name} failed (tar exit ${code})`,
    );
  }
  if (!out.success) {
    throw new Error(
      new TextDecoder().decode(out.stderr).trim().split("\n")[0] ||
        "tar failed",
    );
  }
}

/** Copies the host path `src` into the container at `dest`. */
export async function copyToContainer(
  store: ContainerStore,
  c: ContainerConfig,
  src: string,
  dest: string,
): Promise<void> {
  Deno.lstatSync(src);
  const s = split(src);
  const destIsDir = await exec(store, c, ["test", "-d", dest], [0, 1, 2]) === 0;
  const land = landing(s.base, dest, destIsDir);
  // Owned by the container's root inside, whatever our host ids are.
  const tar = hostTar(
    [
      "-C",
      s.dir,
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      ...land.rename,
      "-cf",
      "-",
      s.base,
    ],
    "null",
    "piped",
  );
  // Written through Deno, so a full pipe waits without blocking the loop.
  const [read, raw] = inheritablePipe();
  const write = Deno.openSync(`/proc/self/fd/${raw}`, { write: true });
  closeFd(raw);
  const feed = tar.stdout.pipeTo(write.writable);
  const code = await exec(store, c, ["tar", "-xpf", "-", "-C", land.dir], [
    read,
    1,
    2,
  ]);
  await feed;
  await tar.status;
  if (code !== 0) {
    throw new Error(`copying ${src} into ${c.name} failed (tar exit ${code})`);
  }
}
