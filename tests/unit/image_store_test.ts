/** The image store: names, lookups, atomic blobs and garbage collection. */
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import { BlobStore, digestOf } from "../../src/storage/blobs.ts";
import { chainIds, MediaType } from "../../src/image/oci.ts";
import { imageSource } from "../../src/image/resolve.ts";
import { readNameIndex, rewritingIndex } from "../../src/image/name_index.ts";
import { writeJsonAtomic } from "../../src/storage/json.ts";
import { type ImageRecord, ImageStore } from "../../src/image/store.ts";
import type { RegistriesConf } from "../../src/image/reference.ts";

const CONF: RegistriesConf = {
  search: ["docker.io"],
  registries: [],
  aliases: {},
};

function tempStore(): { store: ImageStore; dir: string } {
  const dir = Deno.makeTempDirSync();
  return {
    dir,
    store: new ImageStore({ data: dir, runtime: `${dir}/run`, rootless: true }),
  };
}

async function addImage(
  store: ImageStore,
  names: string[],
  content: string,
): Promise<ImageRecord> {
  const layer = await store.blobs.putBytes(new TextEncoder().encode(content));
  const config = {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers" as const, diff_ids: [layer] },
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = await store.blobs.putBytes(configBytes);
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: MediaType.ociManifest,
    config: {
      mediaType: MediaType.ociConfig,
      digest: configDigest,
      size: configBytes.length,
    },
    layers: [{ mediaType: MediaType.ociLayer, digest: layer, size: 1 }],
  };
  const digest = await store.blobs.putBytes(
    new TextEncoder().encode(JSON.stringify(manifest)),
  );
  Deno.mkdirSync(store.lowerDirs({ config } as ImageRecord)[0], {
    recursive: true,
  });
  return await store.commit({
    id: configDigest.slice(7),
    names,
    repoDigests: [],
    digest,
    manifestMediaType: MediaType.ociManifest,
    manifest,
    config,
    size: 1,
    stored: new Date().toISOString(),
  });
}

Deno.test("blobs: a wrong digest or size never lands under its name", async () => {
  const { dir } = tempStore();
  const blobs = new BlobStore(dir);
  const data = new TextEncoder().encode("hello");
  const wrong = digestOf("other");
  await assertRejects(
    () => blobs.put(wrong, ReadableStream.from([data])),
    /digest mismatch/,
  );
  assertEquals(blobs.has(wrong), false);
  const right = digestOf(data);
  await assertRejects(
    () => blobs.put(right, ReadableStream.from([data]), { size: 4 }),
    /larger than its declared 4 bytes/,
  );
  assertEquals(blobs.has(right), false);
  assertEquals([...Deno.readDirSync(`${dir}/blobs/tmp`)], []);
  await blobs.put(right, ReadableStream.from([data]), { size: 5 });
  assertEquals(new TextDecoder().decode(await blobs.read(right)), "hello");
  Deno.writeTextFileSync(blobs.path(right), "rot");
  await assertRejects(() => blobs.read(right), /stored blob: digest mismatch/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("names: full, short, id prefix; a tag moves between images", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["docker.io/library/busybox:latest"], "a");
  const b = await addImage(store, ["quay.io/x/app:1"], "b");
  assertEquals(store.lookup("busybox", CONF)?.id, a.id);
  assertEquals(store.lookup("docker.io/library/busybox", CONF)?.id, a.id);
  assertEquals(store.lookup(a.id.slice(0, 6), CONF)?.id, a.id);
  assertEquals(store.lookup(`sha256:${b.id}`, CONF)?.id, b.id);
  // Not in the search list, but the only image by that short name.
  assertEquals(store.lookup("x/app:1", CONF)?.id, b.id);
  assertEquals(store.lookup("x/app:2", CONF), undefined);

  await store.tag(b.id, "docker.io/library/busybox:latest");
  assertEquals(store.get(a.id)?.names, []);
  assertEquals(store.lookup("busybox", CONF)?.id, b.id);
  assertEquals(
    store.nameFor("busybox", store.get(b.id)!, CONF),
    "docker.io/library/busybox:latest",
  );
  const left = await store.untag(b.id, "quay.io/x/app:1");
  assertEquals(left.names, ["docker.io/library/busybox:latest"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("garbage: blobs and layers of deleted images go, kept layers stay", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["localhost/a:1"], "a");
  const b = await addImage(store, ["localhost/b:1"], "b");
  const orphan = await store.blobs.putBytes(new TextEncoder().encode("orphan"));
  Deno.writeTextFileSync(store.blobs.tempPath(), "half a blob");
  await store.delete(a.id);
  const kept = store.lowerDirs(a)[0];
  const first = await store.collectGarbage(new Set([kept]));
  assert(first.blobs.includes(orphan));
  assert(first.blobs.includes(a.digest));
  assertEquals(first.layers, []);
  assertEquals(
    store.blobs.list().sort(),
    [b.digest, b.manifest.config.digest, b.manifest.layers[0].digest].sort(),
  );
  assertEquals([...Deno.readDirSync(`${dir}/blobs/tmp`)], []);
  const second = await store.collectGarbage();
  assertEquals(second.layers, [kept]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a writer removes the temps of killed writers, never a live one's", async () => {
  const { store, dir } = tempStore();
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const tmp = `${dir}/blobs/tmp`;
  Deno.mkdirSync(`${tmp}/${dead.pid}-context-x/sub`, { recursive: true });
  Deno.writeTextFileSync(`${tmp}/${dead.pid}-blob`, "half a blob");
  const live = store.blobs.tempPath();
  Deno.writeTextFileSync(live, "being written");
  await store.writing(() => Promise.resolve());
  assertEquals([...Deno.readDirSync(tmp)].map((e) => `${tmp}/${e.name}`), [
    live,
  ]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("an image as a container root: layers top first, the config's defaults", async () => {
  const { store, dir } = tempStore();
  const img = await addImage(store, ["localhost/a:1"], "a");
  img.config.rootfs.diff_ids.push(digestOf("second layer"));
  img.config.config = {
    Entrypoint: ["/init"],
    Cmd: null,
    Env: ["A=1"],
    WorkingDir: "",
    User: "app",
    ExposedPorts: { "80/tcp": {} },
    Volumes: { "/data": {} },
    Healthcheck: { Test: ["CMD", "/check"], Interval: 5e9 },
  };
  const root = imageSource(store, "a:1", img);
  // Overlay wants the top layer first.
  const [bottom, top] = chainIds(img.config.rootfs.diff_ids);
  assertEquals(root.layers, [store.layerDir(top), store.layerDir(bottom)]);
  assertEquals(
    { ...root, layers: [] },
    {
      // The image's full name, as Podman's ImageName.
      image: "localhost/a:1",
      imageId: img.id,
      imageDigest: img.digest,
      layers: [],
      rootfs: false,
      entrypoint: ["/init"],
      cmd: [],
      env: ["A=1"],
      workdir: "/",
      user: "app",
      volumes: ["/data"],
      exposed: ["80/tcp"],
      healthcheck: { Test: ["CMD", "/check"], Interval: 5e9 },
    },
  );
  Deno.removeSync(dir, { recursive: true });
});

/** Spoils a record in place, as a disk or a hand might: reading it throws. */
function corrupt(store: ImageStore, id: string) {
  Deno.writeTextFileSync(`${store.root}/${id}.json`, "{ not json");
  assertThrows(() => store.list());
}

const indexFile = (store: ImageStore) => `${store.root}/index/names.json`;

Deno.test("names index: missing, lying or stale, it costs a scan, never a wrong answer", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["docker.io/library/busybox:latest"], "a");
  const b = await addImage(store, ["localhost/b:1"], "b");

  // No index (an older ptd's store): a scan, which writes one.
  Deno.removeSync(indexFile(store));
  assertEquals(store.lookup("busybox", CONF)?.id, a.id);
  assertEquals(readNameIndex(store.root)?.length, 2);

  // An index that points a name at the wrong image (edited in place, so
  // its stamp still holds): the record it names says otherwise.
  const lie = readNameIndex(store.root)!.map((e) => ({
    ...e,
    names: e.id === b.id ? [...e.names, ...a.names] : [],
  }));
  const file = JSON.parse(Deno.readTextFileSync(indexFile(store)));
  Deno.writeTextFileSync(
    indexFile(store),
    JSON.stringify({ ...file, images: lie }),
  );
  assertEquals(store.lookup("busybox", CONF)?.id, a.id);
  assertEquals(store.lookup("localhost/b:1", CONF)?.id, b.id);

  // A record written by something that does not know the index (an older
  // ptd): an image whose id starts as a's makes that prefix ambiguous.
  // One clock tick later, as any other command would come.
  await new Promise((r) => setTimeout(r, 20));
  const twin = a.id.slice(0, 4) +
    [...a.id.slice(4)].map((ch) => ch === "0" ? "1" : "0").join("");
  writeJsonAtomic(`${store.root}/${twin}.json`, { ...b, id: twin, names: [] });
  assertEquals(store.lookup(a.id.slice(0, 4), CONF), undefined);
  assertEquals(store.lookup(a.id.slice(0, 5), CONF)?.id, a.id);

  // A record removed behind its back.
  Deno.removeSync(`${store.root}/${a.id}.json`);
  assertEquals(store.lookup("busybox", CONF), undefined);
  assertEquals(store.lookup("localhost/b:1", CONF)?.id, b.id);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("names index: a lookup reads it and the one record it names; tag, untag and delete keep it", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["docker.io/library/busybox:latest"], "a");
  const b = await addImage(store, ["quay.io/x/app:1"], "b");
  const bystander = await addImage(store, ["localhost/other:1"], "c");
  // Every lookup below would fail if it read this record.
  corrupt(store, bystander.id);
  assertEquals(store.lookup("busybox", CONF)?.id, a.id);
  assertEquals(store.lookup("x/app:1", CONF)?.id, b.id);
  assertEquals(store.lookup(b.id.slice(0, 5), CONF)?.id, b.id);

  await store.tag(b.id, "docker.io/library/busybox:latest");
  assertEquals(store.lookup("busybox", CONF)?.id, b.id);
  await store.tag(a.id, "localhost/a:2");
  assertEquals(store.lookup("a:2", CONF)?.id, a.id);
  await store.untag(b.id, "quay.io/x/app:1");
  assertEquals(store.lookup("busybox", CONF)?.id, b.id);
  await store.delete(b.id);
  assertEquals(store.lookup("a:2", CONF)?.id, a.id);
  const d = await addImage(store, ["docker.io/library/busybox:latest"], "d");
  assertEquals(store.lookup("busybox", CONF)?.id, d.id);
  assertEquals(store.lookup(a.id, CONF)?.id, a.id);

  // A name the index lacks is looked for in every record: mended in place,
  // the bystander can be read again.
  Deno.writeTextFileSync(
    `${store.root}/${bystander.id}.json`,
    JSON.stringify(bystander),
  );
  assertEquals(store.lookup("x/app:1", CONF), undefined);
  assertEquals(store.lookup(b.id, CONF), undefined);
  assertEquals(store.get(a.id)?.names, ["localhost/a:2"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("names index: a writer that fails half-way leaves no index to believe", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["localhost/a:1"], "a");
  assert(readNameIndex(store.root));
  assertThrows(
    () =>
      rewritingIndex(store.root, () => {
        throw new Error("killed");
      }, () => []),
    /killed/,
  );
  assertEquals(readNameIndex(store.root), undefined);
  assertEquals(store.lookup("a:1", CONF)?.id, a.id);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("names index: a lookup while a writer holds the lock neither waits nor writes it", async () => {
  const { store, dir } = tempStore();
  const a = await addImage(store, ["localhost/a:1"], "a");
  Deno.removeSync(indexFile(store));
  await store.locked(() => {
    assertEquals(store.lookup("a:1", CONF)?.id, a.id);
    assertEquals(readNameIndex(store.root), undefined);
  });
  assertEquals(store.lookup("a:1", CONF)?.id, a.id);
  assert(readNameIndex(store.root));
  Deno.removeSync(dir, { recursive: true });
});
