/**
 * Pull and push against a real docker-registry on 127.0.0.1 (plain http):
 * round trips readable by skopeo, pull by tag and by digest, a tampered
 * blob refused, an interrupted pull leaving no image and nothing prune
 * cannot find, and `ptd run IMAGE` pulling and running the image.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import { ptd } from "../helpers.ts";
import { MINBASE_MISSING, minbaseTar } from "../fixtures.ts";
import {
  files,
  ok,
  registryBlobPath,
  sandboxFor,
  startRegistry,
  type TestRegistry,
} from "../registry.ts";
import { PATH, storeBusyboxImage } from "../busybox_image.ts";
import { MediaType } from "../../src/image/oci.ts";
import type { ImageRecord } from "../../src/image/store.ts";
import { digestOf } from "../../src/storage/blobs.ts";
import { removeTrees } from "../../src/storage/remove.ts";

/** Runs skopeo (a peer, to check what ptd wrote); returns its stdout. */
async function skopeo(args: string[]): Promise<string> {
  const out = await new Deno.Command("skopeo", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** Pushes the busybox test image to `reg` as busybox:1; returns its digest. */
async function seed(reg: TestRegistry): Promise<string> {
  const sb = await sandboxFor(reg.host);
  try {
    await storeBusyboxImage(sb, "localhost/busybox:test");
    await ok(sb, [
      "push",
      "localhost/busybox:test",
      `${reg.host}/test/busybox:1`,
    ]);
    const out = await skopeo([
      "inspect",
      "--tls-verify=false",
      `docker://${reg.host}/test/busybox:1`,
    ]);
    return JSON.parse(out).Digest;
  } finally {
    await sb.cleanup();
  }
}

Deno.test("push: skopeo reads and copies what ptd pushed; a second push skips blobs", async () => {
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    await storeBusyboxImage(sb, "localhost/busybox:test");
    const first = await ptd(sb, [
      "push",
      "localhost/busybox:test",
      `${reg.host}/x/bb:1`,
    ]);
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stderr, /Copying blob sha256:[a-f0-9]{64} done/);
    const again = await ptd(sb, [
      "push",
      "localhost/busybox:test",
      `${reg.host}/x/bb:1`,
    ]);
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stderr, /skipped: already exists/);
    const dest = `${sb.dir}/copy`;
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      `docker://${reg.host}/x/bb:1`,
      `oci:${dest}:bb`,
    ]);
    assert(files(`${dest}/blobs/sha256`).length >= 3);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("pull by tag and by digest; images, inspect, history, rmi", async () => {
  const reg = await startRegistry();
  const digest = await seed(reg);
  const sb = await sandboxFor(reg.host);
  try {
    const id = (await ok(sb, ["pull", "-q", `${reg.host}/test/busybox:1`]))
      .trim();
    assertMatch(id, /^[a-f0-9]{64}$/);
    const listed = await ok(sb, ["images"]);
    assertMatch(listed, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert(listed.includes(`${reg.host}/test/busybox`));
    assert(listed.includes(id.slice(0, 12)));
    assertEquals((await ok(sb, ["images", "-q"])).trim(), id.slice(0, 12));
    assertEquals(
      (await ok(sb, ["images", "-q", "--no-trunc", "busybox:1"])).trim(),
      `sha256:${id}`,
    );
    assertEquals((await ok(sb, ["images", "-q", "busybox:2"])).trim(), "");
    assert((await ok(sb, ["images", "--digests"])).includes(digest));
    const [json] = JSON.parse(
      (await ok(sb, ["images", "--format", "json"])).trim(),
    );
    assertEquals(json.Names, [`${reg.host}/test/busybox:1`]);

    const byDigest = `${reg.host}/test/busybox@${digest}`;
    assertEquals((await ok(sb, ["pull", "-q", byDigest])).trim(), id);
    const [doc] = JSON.parse(await ok(sb, ["image", "inspect", byDigest]));
    assertEquals(doc.Id, id);
    assertEquals(doc.RepoDigests, [`${reg.host}/test/busybox@${digest}`]);
    assertMatch(await ok(sb, ["history", id]), /ptd test: busybox layer/);

    await ok(sb, ["tag", id, "localhost/mine:2"]);
    const byId = await ptd(sb, ["rmi", id]);
    assertEquals(byId.code, 125);
    assertMatch(
      byId.stderr,
      /^Error: unable to delete image \w+ by ID with more than one tag/,
    );
    assertEquals(
      await ok(sb, ["rmi", "localhost/mine:2"]),
      "Untagged: localhost/mine:2\n",
    );
    assertMatch(await ok(sb, ["rmi", id]), /Deleted: sha256:/);
    assertEquals((await ok(sb, ["images", "-q"])).trim(), "");
    assertEquals(files(`${sb.env.PTD_ROOT}/blobs/sha256`), []);
    assertEquals(files(`${sb.env.PTD_ROOT}/layers`), []);

    await ok(sb, ["pull", "-q", `${reg.host}/test/busybox:1`]);
    await ok(sb, ["tag", `${reg.host}/test/busybox:1`, "again"]);
    assertMatch(
      await ok(sb, ["rmi", "-a"]),
      /Untagged: localhost\/again:latest/,
    );
    assertEquals(files(`${sb.env.PTD_ROOT}/blobs/sha256`), []);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("run IMAGE pulls when missing, uses the image's config; rmi refuses an image in use", async () => {
  const reg = await startRegistry();
  await seed(reg);
  const sb = await sandboxFor(reg.host);
  try {
    const image = `${reg.host}/test/busybox:1`;
    const never = await ptd(sb, [
      "run",
      "--rm",
      "--pull",
      "never",
      image,
      "true",
    ]);
    assertEquals(never.code, 125);
    assertMatch(never.stderr, /^Error: .*image not known\n$/);
    const r = await ptd(sb, ["run", "--rm", image, "cat", "/hello.txt"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "hello from the image\n");
    const env = await ptd(sb, ["run", "--rm", "--pull", "never", image, "env"]);
    assertStringIncludes(env.stdout, `PATH=${PATH}\n`);
    await removeTrees([`${sb.env.PTD_ROOT}/layers`]);
    const again = await ptd(sb, [
      "run",
      "--rm",
      "--pull",
      "never",
      image,
      "cat",
      "/hello.txt",
    ]);
    assertEquals(again.stdout, "hello from the image\n", again.stderr);
    await ok(sb, ["run", "--name", "keep", image, "true"]);
    const refused = await ptd(sb, ["rmi", image]);
    assertEquals(refused.code, 2); // Podman's code for an image in use
    assertMatch(
      refused.stderr,
      /^Error: image used by [a-f0-9]+: image is in use/,
    );
    await ok(sb, ["rmi", "-f", image]);
    // The container keeps its layers even though its image is gone.
    assert(files(`${sb.env.PTD_ROOT}/layers`).length === 1);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("a tampered blob is refused and leaves no image", async () => {
  const reg = await startRegistry();
  await seed(reg);
  const sb = await sandboxFor(reg.host);
  try {
    const manifest = JSON.parse(
      await skopeo([
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${reg.host}/test/busybox:1`,
      ]),
    );
    const layer = registryBlobPath(reg, manifest.layers[0].digest);
    const data = Deno.readFileSync(layer);
    data[data.length - 100] ^= 0xff;
    Deno.writeFileSync(layer, data);
    const r = await ptd(sb, ["pull", `${reg.host}/test/busybox:1`]);
    assertEquals(r.code, 125);
    assertMatch(
      r.stderr,
      /^Error: blob: digest mismatch: want sha256:[a-f0-9]{64}, got sha256:[a-f0-9]{64}$/m,
    );
    assertEquals((await ok(sb, ["images", "-q"])).trim(), "");
    assertEquals(files(`${sb.env.PTD_ROOT}/blobs/tmp`), []);
    // The layer unpacked during the download was thrown away.
    assertEquals(files(`${sb.env.PTD_ROOT}/layers`), []);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

/**
 * A TCP relay that trickles the registry's answers (so a pull is slow
 * enough to interrupt) and drops every connection on `close`.
 */
function slowRelay(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let closed = false;
  const pump = async (from: Deno.Conn, to: Deno.Conn, slow: boolean) => {
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
        if (slow) await new Promise((r) => setTimeout(r, 20));
      }
    } catch { /* closed */ }
  };
  (async () => {
    for await (const c of listener) {
      const s = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.add(c).add(s);
      pump(c, s, false);
      pump(s, c, true);
    }
  })().catch(() => {});
  return {
    host: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      if (closed) return;
      closed = true;
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test("stopping the registry mid-pull leaves no image; prune finds the orphans", async () => {
  const reg = await startRegistry();
  await seed(reg);
  const relay = slowRelay(Number(reg.host.split(":")[1]));
  const sb = await sandboxFor(relay.host);
  try {
    const pulling = ptd(sb, ["pull", `${relay.host}/test/busybox:1`]);
    const tmp = `${sb.env.PTD_ROOT}/blobs/tmp`;
    const deadline = Date.now() + 20_000;
    while (
      Date.now() < deadline &&
      !files(tmp).some((f) => Deno.statSync(`${tmp}/${f}`).size > 0)
    ) await new Promise((r) => setTimeout(r, 20));
    await reg.stop();
    relay.close();
    const r = await pulling;
    assertEquals(r.code, 125, r.stderr);
    assertMatch(r.stderr, /^Error: /m);
    assertEquals((await ok(sb, ["images", "-q"])).trim(), "");
    assertEquals(
      files(`${sb.env.PTD_ROOT}/images`).filter((f) => f.endsWith(".json")),
      [],
    );
    // Manifest and config made it; the half layer was thrown away, blob
    // and tree both.
    assert(files(`${sb.env.PTD_ROOT}/blobs/sha256`).length > 0);
    assertEquals(files(tmp), []);
    assertEquals(files(`${sb.env.PTD_ROOT}/layers`), []);
    await ok(sb, ["image", "prune", "-f"]);
    assertEquals(files(`${sb.env.PTD_ROOT}/blobs/sha256`), []);
  } finally {
    relay.close();
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("zstd layers pull and run; plain layers are gzipped on push", async () => {
  const reg = await startRegistry();
  const src = await sandboxFor(reg.host);
  try {
    for (const compression of ["zstd", "none"] as const) {
      await storeBusyboxImage(src, `localhost/bb:${compression}`, {
        compression,
      });
      await ok(src, [
        "push",
        `localhost/bb:${compression}`,
        `${reg.host}/c/bb:${compression}`,
      ]);
    }
    const raw = await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${reg.host}/c/bb:none`,
    ]);
    assertEquals(JSON.parse(raw).layers[0].mediaType, MediaType.ociLayerGzip);
    // A fresh store each, so each layer is unpacked from its own blob.
    for (const tag of ["zstd", "none"]) {
      const sb = await sandboxFor(reg.host);
      try {
        const r = await ptd(sb, [
          "run",
          "--rm",
          `${reg.host}/c/bb:${tag}`,
          "cat",
          "/hello.txt",
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertEquals(r.stdout, "hello from the image\n");
      } finally {
        await sb.cleanup();
      }
    }
  } finally {
    await src.cleanup();
    await reg.cleanup();
  }
});

Deno.test("an image index: the manifest for this platform is pulled", async () => {
  const reg = await startRegistry();
  const src = await sandboxFor(reg.host);
  const sb = await sandboxFor(reg.host);
  try {
    const amd = await storeBusyboxImage(src, "localhost/bb:amd");
    const arm = await storeBusyboxImage(src, "localhost/bb:arm", {
      changes: ['CMD ["echo", "arm"]'],
    });
    await ok(src, ["push", "localhost/bb:amd", `${reg.host}/m/bb:amd`]);
    await ok(src, ["push", "localhost/bb:arm", `${reg.host}/m/bb:arm`]);
    const entry = (img: ImageRecord, architecture: string) => ({
      mediaType: MediaType.ociManifest,
      digest: img.digest,
      size: Deno.statSync(
        `${src.env.PTD_ROOT}/blobs/sha256/${img.digest.slice(7)}`,
      ).size,
      platform: { os: "linux", architecture },
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [entry(arm, "arm64"), entry(amd, "amd64")],
    });
    const put = await fetch(`http://${reg.host}/v2/m/bb/manifests/multi`, {
      method: "PUT",
      headers: { "Content-Type": MediaType.ociIndex },
      body: index,
    });
    await put.body?.cancel();
    assertEquals(put.status, 201);
    const id = (await ok(sb, ["pull", "-q", `${reg.host}/m/bb:multi`])).trim();
    assertEquals(id, Deno.build.arch === "aarch64" ? arm.id : amd.id);
    const other = Deno.build.arch === "aarch64" ? "amd64" : "arm64";
    const forced = await ok(sb, [
      "pull",
      "-q",
      "--platform",
      `linux/${other}`,
      `${reg.host}/m/bb:multi`,
    ]);
    assertEquals(forced.trim(), other === "arm64" ? arm.id : amd.id);
    const [doc] = JSON.parse(await ok(sb, ["image", "inspect", id]));
    assertEquals(doc.RepoDigests, [`${reg.host}/m/bb@${digestOf(index)}`]);
    // The tag moved to the image pulled last; the first is now dangling.
    assertMatch(await ok(sb, ["images"]), /<none>\s+<none>/);
  } finally {
    await src.cleanup();
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("registries.conf: a mirror serves the image; short names try each search registry", async () => {
  const reg = await startRegistry();
  await seed(reg);
  const down = await startRegistry();
  await down.stop();
  const sb = await sandboxFor();
  try {
    Deno.writeTextFileSync(
      sb.env.CONTAINERS_REGISTRIES_CONF,
      [
        `unqualified-search-registries = ["${down.host}", "${reg.host}"]`,
        `[[registry]]`,
        `location = "${down.host}"`,
        `insecure = true`,
        `[[registry.mirror]]`,
        `location = "${reg.host}"`,
        `insecure = true`,
        `[[registry]]`,
        `location = "${reg.host}"`,
        `insecure = true`,
      ].join("\n"),
    );
    const viaMirror = await ok(sb, [
      "pull",
      "-q",
      `${down.host}/test/busybox:1`,
    ]);
    const [doc] = JSON.parse(
      await ok(sb, ["image", "inspect", viaMirror.trim()]),
    );
    assertEquals(doc.RepoTags, [`${down.host}/test/busybox:1`]);
    const short = await ptd(sb, ["pull", "test/busybox:1"]);
    assertEquals(short.code, 0, short.stderr);
    // The mirror of the first search registry answers before the second.
    assertMatch(
      short.stderr,
      new RegExp(`^Trying to pull ${down.host}/test/busybox:1`),
    );
    await ok(sb, ["rmi", "-a"]);
    Deno.writeTextFileSync(
      sb.env.CONTAINERS_REGISTRIES_CONF,
      `unqualified-search-registries = ["${down.host}", "${reg.host}"]\n` +
        `[[registry]]\nlocation = "${reg.host}"\ninsecure = true\n` +
        `[[registry]]\nlocation = "${down.host}"\ninsecure = true\n`,
    );
    const fallthrough = await ptd(sb, ["pull", "test/busybox:1"]);
    assertEquals(fallthrough.code, 0, fallthrough.stderr);
    assertMatch(
      fallthrough.stderr,
      new RegExp(`Trying to pull ${reg.host}/test/busybox:1`),
    );
    assertMatch(
      await ok(sb, ["images"]),
      new RegExp(`${reg.host}/test/busybox\\s+1`),
    );
  } finally {
    await sb.cleanup();
    await reg.cleanup();
    await down.cleanup();
  }
});

if (!minbaseTar()) {
  console.error(`SKIP minbase registry test: ${MINBASE_MISSING}`);
}

Deno.test("a Debian minbase image survives push and pull: setuid root passwd", {
  ignore: !minbaseTar(),
}, async () => {
  const reg = await startRegistry();
  const src = await sandboxFor(reg.host);
  const sb = await sandboxFor(reg.host);
  const image = `${reg.host}/debian/minbase:bookworm`;
  try {
    await ok(src, ["import", minbaseTar()!, "debian-minbase"]);
    await ok(src, ["push", "debian-minbase", image]);
    const out = await ok(sb, [
      "run",
      "--rm",
      image,
      "ls",
      "-l",
      "/usr/bin/passwd",
    ]);
    assertMatch(out, /^-rwsr-xr-x 1 root root \d+ .* \/usr\/bin\/passwd\n$/);
  } finally {
    await src.cleanup();
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("a Docker schema 2 manifest (written by skopeo) is pulled and run", async () => {
  const reg = await startRegistry();
  await seed(reg);
  const sb = await sandboxFor(reg.host);
  try {
    await skopeo([
      "copy",
      "--format",
      "v2s2",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      `docker://${reg.host}/test/busybox:1`,
      `docker://${reg.host}/test/busybox:v2s2`,
    ]);
    const image = `${reg.host}/test/busybox:v2s2`;
    const id = (await ok(sb, ["pull", "-q", image])).trim();
    const [doc] = JSON.parse(await ok(sb, ["image", "inspect", id]));
    assertEquals(doc.ManifestType, MediaType.dockerManifest);
    const r = await ptd(sb, ["run", "--rm", image, "cat", "/hello.txt"]);
    assertEquals(r.stdout, "hello from the image\n", r.stderr);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});
