/**
 * `search`, `pull --all-tags` and `--authfile` against a real
 * docker-registry on 127.0.0.1, side by side with Podman where it runs
 * the same command lines; and an image's SIZE the same pulled or loaded.
 */
import assert from "node:assert/strict";
import { storeBusyboxImage } from "../busybox_image.ts";
import { ptd, type Sandbox } from "../helpers.ts";
import { hasPodman, podman, stopPodmanPause } from "../podman.ts";
import { ok, sandboxFor, startRegistry } from "../registry.ts";

const dec = new TextDecoder();

/** A registry holding lib/bb:1, lib/bb:2 and other:latest. */
async function withRegistry(
  fn: (sb: Sandbox, host: string) => Promise<void>,
  user?: { username: string; password: string },
) {
  const reg = await startRegistry(user ? { user, tls: true } : {});
  const sb = await sandboxFor(reg.host);
  try {
    if (reg.caCert) {
      const dir = `${sb.dir}/config/containers/certs.d/${reg.host}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/ca.crt`, reg.caCert);
    }
    await storeBusyboxImage(sb, "localhost/bb:1");
    await storeBusyboxImage(sb, "localhost/bb:2", {
      changes: ['CMD ["/bin/sh"]'],
    });
    const creds = user ? ["--creds", `${user.username}:${user.password}`] : [];
    for (
      const [src, dest] of [["bb:1", "lib/bb:1"], ["bb:2", "lib/bb:2"], [
        "bb:1",
        "other:latest",
      ]]
    ) {
      await ok(sb, [
        "push",
        ...creds,
        `localhost/${src}`,
        `${reg.host}/${dest}`,
      ]);
    }
    await ok(sb, ["rmi", "-a", "-f"]);
    await fn(sb, reg.host);
  } finally {
    stopPodmanPause(sb);
    await sb.cleanup();
    await reg.cleanup();
  }
}

Deno.test("search lists a registry's catalog as podman does", {
  ignore: !hasPodman(),
}, () =>
  withRegistry(async (sb, host) => {
    // Podman insists that REGISTRY_AUTH_FILE exists.
    Deno.writeTextFileSync(sb.env.REGISTRY_AUTH_FILE, '{"auths":{}}');
    const lines = [
      [`${host}/`],
      [`${host}/bb`],
      [`${host}/zzz`],
      ["--limit", "1", `${host}/`],
      ["--list-tags", `${host}/lib/bb`],
      ["--format", "json", `${host}/lib`],
      ["--format", "json", "--list-tags", `${host}/lib/bb`],
      ["--format", "{{.Name}}", `${host}/`],
    ];
    for (const args of lines) {
      const a = await ptd(sb, ["search", ...args]);
      const b = await podman(sb, ["search", ...args], sb.env);
      assert.equal(
        a.code,
        b.code,
        `search ${args.join(" ")}: ${a.stderr} ${dec.decode(b.stderr)}`,
      );
      assert.equal(a.stdout, dec.decode(b.stdout), `search ${args.join(" ")}`);
    }
    assert.match((await ptd(sb, ["search", `${host}/`])).stdout, /lib\/bb/);
    const refused = await ptd(sb, ["search", "127.0.0.1:1/x"]);
    assert.equal(refused.code, 125);
    assert.match(
      refused.stderr,
      /^Error: couldn't search registry "127\.0\.0\.1:1": [^\n]*\n$/,
    );
  }));

Deno.test("pull --all-tags pulls every tag; SIZE is the same pulled or loaded", () =>
  withRegistry(async (sb, host) => {
    const ids = (await ok(sb, ["pull", "-q", "--all-tags", `${host}/lib/bb:9`]))
      .trim().split("\n");
    assert.equal(ids.length, 2);
    const tags = await ok(sb, [
      "images",
      "--format",
      "{{.Repository}}:{{.Tag}}",
    ]);
    assert.deepEqual(tags.trim().split("\n").sort(), [
      `${host}/lib/bb:1`,
      `${host}/lib/bb:2`,
    ]);
    const size = async () =>
      (await ok(sb, [
        "image",
        "inspect",
        "--format",
        "{{.Size}}",
        `${host}/lib/bb:1`,
      ])).trim();
    const pulled = await size();
    await ok(sb, ["save", "-o", `${sb.dir}/a.tar`, `${host}/lib/bb:1`]);
    await ok(sb, ["rmi", "-a", "-f"]);
    await ok(sb, ["load", "-i", `${sb.dir}/a.tar`]);
    assert.equal(await size(), pulled);
  }));

Deno.test("--authfile is the one file login writes and pull, search read", () =>
  withRegistry(async (sb, host) => {
    const file = `${sb.dir}/my-auth.json`;
    const missing = await ptd(sb, [
      "pull",
      "--authfile",
      `${sb.dir}/none.json`,
      `${host}/lib/bb:1`,
    ]);
    assert.equal(missing.code, 125);
    assert.equal(
      missing.stderr,
      `Error: stat ${sb.dir}/none.json: no such file or directory\n`,
    );
    const denied = await ptd(sb, ["pull", `${host}/lib/bb:1`]);
    assert.equal(denied.code, 125, "no credentials anywhere");
    await ok(sb, [
      "login",
      "--authfile",
      file,
      "-u",
      "me",
      "-p",
      "secret",
      host,
    ]);
    assert.match(
      Deno.readTextFileSync(file),
      new RegExp(host.replace(/\./g, "\\.")),
    );
    assert.throws(() => Deno.statSync(sb.env.REGISTRY_AUTH_FILE));
    assert.notEqual((await ptd(sb, ["pull", `${host}/lib/bb:1`])).code, 0);
    await ok(sb, ["pull", "-q", "--authfile", file, `${host}/lib/bb:1`]);
    assert.match(
      await ok(sb, ["search", "--authfile", file, `${host}/lib`]),
      /lib\/bb/,
    );
    await ok(sb, ["logout", "--authfile", file, host]);
    assert.doesNotMatch(
      Deno.readTextFileSync(file),
      new RegExp(host.replace(/\./g, "\\.")),
    );
  }, { username: "me", password: "secret" }));
