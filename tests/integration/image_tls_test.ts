/**
 * Authenticated registries: TLS with a test CA trusted only through certs.d
 * and htpasswd Basic auth, and Bearer tokens from a token server; credentials
 * only through `ptd login` (auth.json).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { ptd, type Sandbox } from "../helpers.ts";
import {
  files,
  ok,
  sandboxFor,
  startRegistry,
  type TestRegistry,
} from "../registry.ts";
import { storeBusyboxImage } from "../busybox_image.ts";

const USER = { username: "tester", password: "s3cret pass" };

function trustCa(sb: Sandbox, reg: TestRegistry) {
  const dir = `${sb.env.XDG_CONFIG_HOME}/containers/certs.d/${reg.host}`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/ca.crt`, reg.caCert!);
}

/** Pushing without credentials and logging in with a wrong password fail. */
async function refusedWithout(sb: Sandbox, reg: TestRegistry, image: string) {
  const anonymous = await ptd(sb, ["push", "localhost/busybox:test", image]);
  assertEquals(anonymous.code, 125);
  assertMatch(
    anonymous.stderr,
    /^Error: authentication required for 127\.0\.0\.1:\d+: no credentials/m,
  );
  const wrong = await ptd(sb, [
    "login",
    "-u",
    USER.username,
    "-p",
    "nope",
    reg.host,
  ]);
  assertEquals(wrong.code, 125);
  assertMatch(
    wrong.stderr,
    /^Error: authentication required for .*: credentials refused\n$/,
  );
}

Deno.test("TLS + htpasswd: certs.d CA, login/logout, push and pull", async () => {
  const reg = await startRegistry({ tls: true, user: USER });
  const sb = await sandboxFor();
  const image = `${reg.host}/secure/busybox:1`;
  try {
    await storeBusyboxImage(sb, "localhost/busybox:test");

    const untrusted = await ptd(sb, [
      "login",
      "-u",
      USER.username,
      "-p",
      USER.password,
      reg.host,
    ]);
    assertEquals(untrusted.code, 125);
    assertMatch(untrusted.stderr, /^Error: .*(certificate|UnknownIssuer)/i);
    trustCa(sb, reg);

    await refusedWithout(sb, reg, image);
    assertEquals(files(sb.dir).includes("auth.json"), false);

    const login = await ptd(sb, [
      "login",
      "-u",
      USER.username,
      "--password-stdin",
      reg.host,
    ], {
      stdin: `${USER.password}\n`,
    });
    assertEquals(login.code, 0, login.stderr);
    assertEquals(login.stdout, "Login Succeeded!\n");
    const auth = JSON.parse(Deno.readTextFileSync(sb.env.REGISTRY_AUTH_FILE));
    assertEquals(
      auth.auths[reg.host].auth,
      btoa(`${USER.username}:${USER.password}`),
    );

    await ok(sb, ["push", "localhost/busybox:test", image]);
    const skopeo = await new Deno.Command("skopeo", {
      args: [
        "inspect",
        `--cert-dir=${sb.env.XDG_CONFIG_HOME}/containers/certs.d/${reg.host}`,
        `--creds=${USER.username}:${USER.password}`,
        `docker://${image}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(skopeo.success, new TextDecoder().decode(skopeo.stderr));

    const id = (await ok(sb, ["pull", "-q", image])).trim();
    assertMatch(
      await ok(sb, ["images"]),
      new RegExp(`${reg.host}/secure/busybox\\s+1\\s+${id.slice(0, 12)}`),
    );

    assertEquals(
      await ok(sb, ["logout", reg.host]),
      `Removed login credentials for ${reg.host}\n`,
    );
    const after = await ptd(sb, ["pull", image]);
    assertEquals(after.code, 125);
    assertMatch(after.stderr, /^Error: authentication required/m);
    const again = await ptd(sb, ["logout", reg.host]);
    assertEquals(again.code, 125);
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("Bearer tokens: login, push and pull through a token server", async () => {
  const reg = await startRegistry({ tokenUser: USER });
  const sb = await sandboxFor(reg.host);
  const image = `${reg.host}/tok/busybox:1`;
  try {
    await storeBusyboxImage(sb, "localhost/busybox:test");
    await refusedWithout(sb, reg, image);
    await ok(sb, ["login", "-u", USER.username, "-p", USER.password, reg.host]);
    await ok(sb, ["push", "localhost/busybox:test", image]);
    const fresh = await sandboxFor(reg.host);
    try {
      fresh.env.REGISTRY_AUTH_FILE = sb.env.REGISTRY_AUTH_FILE;
      const r = await ptd(fresh, ["run", "--rm", image, "cat", "/hello.txt"]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, "hello from the image\n");
    } finally {
      await fresh.cleanup();
    }
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});
