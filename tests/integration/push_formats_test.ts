/**
 * `push --format` and `--compression-format` against a real registry: the
 * manifest and layers are of the kind asked for, skopeo reads them, Podman
 * pulls and runs them, ptd pulls them back; bad values fail as Podman's.
 * And `login -v`/`logout -a` side by side with Podman's.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { ptd } from "../helpers.ts";
import { bothEngines, hasPodman, podman, sideBySide } from "../podman.ts";
import { ok, sandboxFor, startRegistry } from "../registry.ts";
import { storeBusyboxImage } from "../busybox_image.ts";
import { MediaType } from "../../src/image/oci.ts";

/** skopeo's raw manifest of `ref` on a plain-http registry. */
async function rawManifest(ref: string) {
  const out = await new Deno.Command("skopeo", {
    args: ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Whether `path` of a registry starts with zstd's magic number. */
async function zstdBlob(ref: string, digest: string): Promise<boolean> {
  const [host, repo] = [
    ref.slice(0, ref.indexOf("/")),
    ref.slice(ref.indexOf("/") + 1, ref.lastIndexOf(":")),
  ];
  const r = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`);
  const head = new Uint8Array(await r.arrayBuffer()).subarray(0, 4);
  return head.toHex() === "28b52ffd";
}

const CASES: [string[], string, string, string][] = [
  // The stored layers' compression, unless asked otherwise.
  [["--format", "oci"], "oci", MediaType.ociConfig, MediaType.ociLayerZstd],
  [
    ["--format", "v2s2"],
    "v2s2",
    MediaType.dockerConfig,
    MediaType.dockerLayer,
  ],
  [
    ["--compression-format", "zstd"],
    "zstd",
    MediaType.ociConfig,
    MediaType.ociLayerZstd,
  ],
  [
    ["-f", "oci", "--compression-format", "gzip", "--compress"],
    "gzip",
    MediaType.ociConfig,
    MediaType.ociLayerGzip,
  ],
];

Deno.test("push --format and --compression-format: what skopeo, Podman and ptd read", async () => {
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    // A zstd image pushed as v2s2 must be recompressed with gzip.
    await storeBusyboxImage(sb, "localhost/bb:test", { compression: "zstd" });
    for (const [flags, tag, config, layer] of CASES) {
      const ref = `${reg.host}/f/bb:${tag}`;
      const extra = tag === "v2s2" ? ["--compression-format", "gzip"] : [];
      await ok(sb, [
        "push",
        "-q",
        ...flags,
        ...extra,
        "localhost/bb:test",
        ref,
      ]);
      const m = await rawManifest(ref);
      assertEquals(m.config.mediaType, config, tag);
      assertEquals(m.layers[0].mediaType, layer, tag);
      // An OCI manifest may leave its media type out (Podman's do).
      assertEquals(
        m.mediaType ?? MediaType.ociManifest,
        tag === "v2s2" ? MediaType.dockerManifest : MediaType.ociManifest,
        tag,
      );
      assertEquals(
        await zstdBlob(ref, m.layers[0].digest),
        layer === MediaType.ociLayerZstd,
        tag,
      );
      if (hasPodman()) {
        const env = {
          CONTAINERS_REGISTRIES_CONF: sb.env.CONTAINERS_REGISTRIES_CONF,
        };
        const run = await podman(
          sb,
          ["run", "--rm", ref, "cat", "/hello.txt"],
          env,
        );
        const dec = new TextDecoder();
        assertEquals(
          dec.decode(run.stdout),
          "hello from the image\n",
          dec.decode(run.stderr),
        );
      }
    }
    // ptd reads back what it pushed, in a fresh store.
    const back = await sandboxFor(reg.host);
    try {
      for (const tag of ["v2s2", "zstd"]) {
        const r = await ptd(back, [
          "run",
          "--rm",
          `${reg.host}/f/bb:${tag}`,
          "cat",
          "/hello.txt",
        ]);
        assertEquals(r.stdout, "hello from the image\n", r.stderr);
      }
    } finally {
      await back.cleanup();
    }
    // Unchanged, the stored manifest goes up as it is: the same digest.
    const digest = `${sb.dir}/digest`;
    await ok(sb, [
      "push",
      "-q",
      "--digestfile",
      digest,
      "localhost/bb:test",
      `${reg.host}/f/bb:same`,
    ]);
    const stored = await ptd(sb, [
      "image",
      "inspect",
      "--format",
      "{{.Digest}}",
      "localhost/bb:test",
    ]);
    assertEquals(Deno.readTextFileSync(digest), stored.stdout.trim());
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("push: bad --format and --compression-format values fail as Podman's", async () => {
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    await storeBusyboxImage(sb, "localhost/bb:test");
    const bad: [string[], string][] = [
      [
        ["-f", "bogus"],
        `unknown format "bogus". Choose on of the supported formats: 'oci', 'v2s1', or 'v2s2'`,
      ],
      [["-f", "v2s1"], "v2s1"],
      [["--compression-format", "bogus"], 'cannot find compressor for "bogus"'],
      [["-f", "v2s2", "--compression-format", "zstd"], "zstd"],
    ];
    for (const [flags, says] of bad) {
      const r = await ptd(sb, [
        "push",
        ...flags,
        "localhost/bb:test",
        `${reg.host}/f/bb:bad`,
      ]);
      assertEquals(r.code, 125, flags.join(" "));
      assertStringIncludes(r.stderr, says);
    }
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test(
  "login -v names the auth file; logout -a succeeds with nothing stored",
  {
    ignore: !hasPodman(),
  },
  async () => {
    const reg = await startRegistry();
    const sb = await sandboxFor(reg.host);
    try {
      const auth = `${sb.dir}/auth.json`;
      const engines = bothEngines(sb, {
        CONTAINERS_REGISTRIES_CONF: sb.env.CONTAINERS_REGISTRIES_CONF,
        REGISTRY_AUTH_FILE: auth,
      });
      const other = `${sb.dir}/other.json`;
      const lines = [
        ["login", "-v", "-u", "u", "-p", "p", reg.host],
        [
          "login",
          "--verbose",
          "--authfile",
          other,
          "-u",
          "u",
          "-p",
          "p",
          reg.host,
        ],
        ["login", "--get-login", reg.host],
        ["logout", "-a"],
        ["logout", "-a"],
        ["logout", reg.host],
      ];
      const seen: Record<string, string[]> = {};
      await sideBySide(sb, engines, async () => {
        for (const [name, run] of Object.entries(engines)) {
          seen[name] = [];
          for (const args of lines) {
            const r = await run(args);
            seen[name].push(`${r.code} ${r.stdout}`);
          }
        }
      });
      assertEquals(seen.ptd, seen.podman);
      assertEquals(seen.ptd[0], `0 Used:  ${auth}\nLogin Succeeded!\n`);
    } finally {
      await sb.cleanup();
      await reg.cleanup();
    }
  },
);
