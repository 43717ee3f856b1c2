/** Docker reference rules, registries.conf parsing and endpoint selection. */
import { assertEquals, assertThrows } from "../assert.ts";
import {
  caCertsFor,
  endpoints,
  formatReference,
  parseName,
  parseReference,
  parseRegistriesConf,
  resolveName,
} from "../../src/image/reference.ts";

const D = `sha256:${"a".repeat(64)}`;

Deno.test("reference: Docker Hub short names get docker.io/library and :latest", () => {
  assertEquals(
    formatReference(parseReference("busybox")),
    "docker.io/library/busybox:latest",
  );
  assertEquals(
    formatReference(parseReference("user/app:1.0")),
    "docker.io/user/app:1.0",
  );
  assertEquals(
    formatReference(parseReference("index.docker.io/busybox")),
    "docker.io/library/busybox:latest",
  );
});

Deno.test("reference: hosts, ports, localhost, tags and digests", () => {
  assertEquals(parseReference("127.0.0.1:5000/a/b:tag"), {
    registry: "127.0.0.1:5000",
    repository: "a/b",
    tag: "tag",
    digest: undefined,
  });
  assertEquals(parseReference("localhost/app").registry, "localhost");
  assertEquals(parseReference("quay.io/x/y").tag, "latest");
  const pinned = parseReference(`quay.io/x/y@${D}`);
  assertEquals(pinned.tag, undefined);
  assertEquals(pinned.digest, D);
  assertEquals(
    formatReference(parseReference(`host:5000/r:t@${D}`)),
    `host:5000/r:t@${D}`,
  );
  // A port-looking suffix after the last slash is a tag, not a port.
  assertEquals(parseName("app:5000").tag, "5000");
});

Deno.test("reference: malformed names are refused", () => {
  for (
    const bad of [
      "",
      "UPPER",
      "a//b",
      "a:b:c",
      "a@sha256:xyz",
      "-lead",
      "a:-tag",
      "x/.y",
    ]
  ) {
    assertThrows(() => parseReference(bad), /invalid reference format/);
  }
});

const CONF = `
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
prefix = "example.com/team"
location = "internal.example:443/mirror/team"

[[registry.mirror]]
location = "mirror.local:5000/team"
insecure = true

[[registry]]
location = "evil.example"
blocked = true

[aliases]
"tool" = "ghcr.io/org/tool"
`;

Deno.test("registries.conf: search list, registries, mirrors, aliases", () => {
  const conf = parseRegistriesConf(CONF);
  assertEquals(conf.search, ["quay.io", "docker.io"]);
  assertEquals(conf.registries.length, 3);
  assertEquals(conf.registries[0], {
    prefix: "127.0.0.1:5000",
    location: "127.0.0.1:5000",
    insecure: true,
    blocked: false,
    mirrors: [],
  });
  assertEquals(conf.aliases.tool, "ghcr.io/org/tool");
  assertThrows(() => parseRegistriesConf("x = ["), /^registries.conf: /);
});

Deno.test("short names: tried at each search registry; aliases win", () => {
  const conf = parseRegistriesConf(CONF);
  assertEquals(resolveName("alpine:3", conf).map(formatReference), [
    "quay.io/alpine:3",
    "docker.io/library/alpine:3",
  ]);
  assertEquals(resolveName("tool:2", conf).map(formatReference), [
    "ghcr.io/org/tool:2",
  ]);
  assertEquals(resolveName("quay.io/a/b", conf).map(formatReference), [
    "quay.io/a/b:latest",
  ]);
});

Deno.test("endpoints: insecure flag, prefix rewrite, mirrors first, blocked", () => {
  const conf = parseRegistriesConf(CONF);
  assertEquals(endpoints(parseReference("127.0.0.1:5000/x:1"), conf), [
    { host: "127.0.0.1:5000", repository: "x", insecure: true, mirror: false },
  ]);
  assertEquals(endpoints(parseReference("example.com/team/app:1"), conf), [
    {
      host: "mirror.local:5000",
      repository: "team/app",
      insecure: true,
      mirror: true,
    },
    {
      host: "internal.example:443",
      repository: "mirror/team/app",
      insecure: false,
      mirror: false,
    },
  ]);
  assertEquals(
    endpoints(parseReference("example.com/team/app:1"), conf, true).length,
    1,
  );
  // A prefix only matches whole path components.
  assertEquals(
    endpoints(parseReference("example.com/teamx/app"), conf)[0].host,
    "example.com",
  );
  assertThrows(
    () => endpoints(parseReference("evil.example/a"), conf),
    /blocked/,
  );
});

Deno.test("certs.d: every *.crt of the registry's directory", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/ca.crt`, "CA1");
    Deno.writeTextFileSync(`${dir}/client.cert`, "not a CA");
    assertEquals(caCertsFor("h:1", dir), ["CA1"]);
    Deno.mkdirSync(`${dir}/containers/certs.d/h:1`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/containers/certs.d/h:1/b.crt`, "CA2");
    const old = Deno.env.get("XDG_CONFIG_HOME");
    Deno.env.set("XDG_CONFIG_HOME", dir);
    try {
      assertEquals(caCertsFor("h:1"), ["CA2"]);
      assertEquals(caCertsFor("other:2"), []);
    } finally {
      if (old === undefined) Deno.env.delete("XDG_CONFIG_HOME");
      else Deno.env.set("XDG_CONFIG_HOME", old);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
