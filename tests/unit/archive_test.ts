/** `--change` instructions of `ptd import`, as Dockerfile lines. */
import assert from "node:assert/strict";
import { applyChanges } from "../../src/image/archive.ts";

Deno.test("applyChanges: exec and shell forms, env, workdir, user", () => {
  const c = applyChanges({ Env: ["PATH=/bin", "A=0"] }, [
    'CMD ["/bin/echo", "hi"]',
    "ENTRYPOINT /bin/run --flag",
    "ENV A=1 B=two",
    "ENV C some words",
    "WORKDIR /srv",
    "user 1000:1000",
  ]);
  assert.deepEqual(c, {
    Cmd: ["/bin/echo", "hi"],
    Entrypoint: ["/bin/sh", "-c", "/bin/run --flag"],
    Env: ["PATH=/bin", "A=1", "B=two", "C=some words"],
    WorkingDir: "/srv",
    User: "1000:1000",
  });
});

Deno.test("applyChanges: unsupported instructions are refused", () => {
  assert.throws(
    () => applyChanges({}, ["RUN rm -rf /"]),
    /invalid change "RUN rm -rf \/": ptd supports CMD/,
  );
  assert.throws(() => applyChanges({}, ["CMD"]), /invalid change "CMD"/);
});

Deno.test("applyChanges: VOLUME in both forms adds to the image's volumes", () => {
  const c = applyChanges({ Volumes: { "/a": {} } }, [
    "VOLUME /b /c",
    'VOLUME ["/d"]',
  ]);
  assert.deepEqual(Object.keys(c.Volumes!), ["/a", "/b", "/c", "/d"]);
  assert.throws(() => applyChanges({}, ["VOLUME [1]"]), /invalid change/);
});
