/** WWW-Authenticate challenges and the auth.json files. */
import { assertEquals } from "../assert.ts";
import {
  credentialsFor,
  parseChallenge,
  removeCredentials,
  saveCredentials,
} from "../../src/image/auth.ts";

Deno.test("challenge: Bearer with quoted params, commas inside quotes", () => {
  assertEquals(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
    ),
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/busybox:pull,push",
      },
    },
  );
});

Deno.test("challenge: Basic, unquoted values, escapes, spaces", () => {
  assertEquals(parseChallenge('Basic realm="ptd \\"test\\""'), {
    scheme: "basic",
    params: { realm: 'ptd "test"' },
  });
  assertEquals(parseChallenge("Bearer realm=r , error=invalid_token"), {
    scheme: "bearer",
    params: { realm: "r", error: "invalid_token" },
  });
});

function withEnv(vars: Record<string, string>, fn: () => Promise<void>) {
  return async () => {
    const old = Object.fromEntries(
      Object.keys(vars).map((k) => [k, Deno.env.get(k)]),
    );
    for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
    try {
      await fn();
    } finally {
      for (const [k, v] of Object.entries(old)) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    }
  };
}

const dir = Deno.makeTempDirSync();

Deno.test({
  name:
    "auth.json: login writes, credentials read back, logout removes; Docker's config read too",
  fn: withEnv({
    XDG_RUNTIME_DIR: `${dir}/run`,
    HOME: `${dir}/home`,
    XDG_CONFIG_HOME: `${dir}/home/.config`,
    DOCKER_CONFIG: `${dir}/home/.docker`,
  }, async () => {
    Deno.env.delete("REGISTRY_AUTH_FILE");
    await saveCredentials("reg.example:5000", {
      username: "u",
      password: "p:w",
    });
    const doc = JSON.parse(
      Deno.readTextFileSync(`${dir}/run/containers/auth.json`),
    );
    assertEquals(doc.auths["reg.example:5000"].auth, btoa("u:p:w"));
    assertEquals(credentialsFor("reg.example:5000"), {
      username: "u",
      password: "p:w",
    });
    assertEquals(await removeCredentials("reg.example:5000"), true);
    assertEquals(await removeCredentials("reg.example:5000"), false);
    assertEquals(credentialsFor("reg.example:5000"), undefined);

    Deno.mkdirSync(`${dir}/home/.docker`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/home/.docker/config.json`,
      JSON.stringify({
        auths: { "https://index.docker.io/v1/": { auth: btoa("hub:secret") } },
      }),
    );
    assertEquals(credentialsFor("docker.io"), {
      username: "hub",
      password: "secret",
    });
    Deno.removeSync(dir, { recursive: true });
  }),
});
