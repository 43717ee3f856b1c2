/**
 * Every layer of the hostile corpus, unpacked as a user would (rootless:
 * through the user-namespace helper), next to a directory it aims at. After
 * each: the target is untouched, a refused layer left nothing at all, an
 * allowed one kept its tricks inside the layer.
 */
import assert from "node:assert/strict";
import { unpackLayer } from "../../src/image/unpack.ts";
import { makeTar } from "../fixtures.ts";
import { hostileLayers } from "../hostile_layers.ts";
import { sandbox } from "../helpers.ts";

function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string) => {
    for (
      const e of [...Deno.readDirSync(d)].sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const st = Deno.lstatSync(`${d}/${e.name}`);
      lines.push(`${d}/${e.name} ${st.mode} ${st.mtime?.getTime()} ${st.size}`);
      if (e.isDirectory) walk(`${d}/${e.name}`);
    }
  };
  walk(dir);
  return lines.join("\n") + Deno.readTextFileSync(`${dir}/secret`);
}

Deno.test("hostile layers write nothing outside the layer", async () => {
  const sb = await sandbox();
  try {
    const outside = `${sb.dir}/outside`;
    Deno.mkdirSync(outside);
    Deno.writeTextFileSync(`${outside}/secret`, "secret\n");
    const before = snapshot(outside);
    for (const [i, layer] of hostileLayers(outside).entries()) {
      const blob = `${sb.dir}/layer-${i}.tar`;
      Deno.writeFileSync(blob, await makeTar(layer.entries));
      const parent = `${sb.dir}/layers-${i}`;
      Deno.mkdirSync(parent);
      const dest = `${parent}/dest`;
      const unpack = () =>
        unpackLayer(blob, "application/vnd.oci.image.layer.v1.tar", dest);
      if (layer.refused) {
        await assert.rejects(unpack, (e: Error) => {
          assert.match(
            e.message,
            /^(layer entry|invalid layer) [^\n]+$/,
            layer.name,
          );
          return true;
        }, layer.name);
        assert.deepEqual([...Deno.readDirSync(parent)], [], layer.name);
      } else {
        await unpack();
        assert.deepEqual(
          [...Deno.readDirSync(parent)].map((e) => e.name),
          ["dest"],
          layer.name,
        );
      }
      assert.deepEqual(snapshot(outside), before, layer.name);
    }
  } finally {
    await sb.cleanup();
  }
});
