/**
 * `ptd build` rootless, on the busybox test image: a multi-stage
 * Containerfile with every instruction, its image run; ONBUILD in a child
 * build; the cache (a rebuild makes no container and no layer, a changed
 * late COPY reuses the steps before it); errors as Podman gives them, with
 * nothing left behind; the image pushed, read by skopeo and run by podman.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  PATH,
  storeBusyboxForBoth,
  storeBusyboxImage,
} from "../busybox_image.ts";
import { lgetxattrBytes } from "../../ffi/fs.ts";
import {
  busyboxEntries,
  makeTar,
  MINBASE_MISSING,
  minbaseTar,
} from "../fixtures.ts";
import {
  alive,
  ok,
  ptd,
  ptdCommand,
  type Result,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";
import {
  bothEngines,
  hasPodman,
  podman,
  podmanLine,
  podmanOk,
  type Runner,
  sideBySide,
  stopPodmanPause,
} from "../podman.ts";
import {
  files,
  pushAndRunUnderPodman,
  sandboxFor,
  startRegistry,
} from "../registry.ts";

/** A context dir in the sandbox with `files` (path -> content). */
function context(sb: Sandbox, entries: Record<string, string>): string {
  const dir = `${sb.dir}/ctx-${crypto.randomUUID().slice(0, 6)}`;
  for (const [path, text] of Object.entries(entries)) {
    const full = `${dir}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(full, text);
  }
  return dir;
}

const EVERYTHING = `# syntax=docker/dockerfile:1
ARG BASE=localhost/bb:1
FROM \${BASE} AS builder
ARG GREETING=hello
ENV OUT=/out
WORKDIR /src
COPY app.sh ./
RUN mkdir -p $OUT && sh app.sh "$GREETING" > $OUT/greeting \\
  && echo built > $OUT/built
RUN <<EOF
echo from-heredoc > /out/heredoc
EOF
COPY <<EOF /out/doc.txt
doc for $GREETING
EOF

FROM \${BASE}
MAINTAINER ptd tests
LABEL org.example.name="every instruction" version=1
ENV APP_HOME=/app PATH=${PATH}
WORKDIR \$APP_HOME
COPY --from=builder /out/ ./
COPY --chown=daemon:daemon --chmod=640 conf/ /etc/app/
ADD archive.tar /unpacked/
USER daemon
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=3 CMD ["true"]
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo triggered > /tmp/onbuild
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting; id -un; pwd; echo $APP_HOME"]
`;

/** A small tar (one file) for ADD to unpack. */
async function archive(dir: string): Promise<void> {
  Deno.mkdirSync(`${dir}/arch`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/arch/inside.txt`, "from the archive\n");
  const out = await new Deno.Command("tar", {
    args: ["-C", `${dir}/arch`, "-cf", `${dir}/archive.tar`, "inside.txt"],
  }).output();
  assert(out.success);
  Deno.removeSync(`${dir}/arch`, { recursive: true });
}

Deno.test("build: a multi-stage Containerfile with every instruction; the image runs as built", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const dir = context(sb, {
      "Containerfile": EVERYTHING,
      "app.sh": 'echo "$1 world"\n',
      "conf/app.conf": "key=value\n",
      ".containerignore": "ignored.txt\n",
      "ignored.txt": "never copied\n",
    });
    await archive(dir);
    const r = await ptd(sb, [
      "build",
      "-t",
      "every:1",
      "--build-arg",
      "GREETING=hi",
      dir,
    ]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertMatch(r.stdout, /\[1\/2\] STEP 1\/\d+: FROM \$\{BASE\} AS builder/);
    assertMatch(r.stdout, /Successfully tagged localhost\/every:1/);
    const run = await ptd(sb, ["run", "--rm", "every:1"]);
    assertEquals(run.stdout, "hi world\ndaemon\n/app\n/app\n", run.stderr);
    const look = await ptd(sb, [
      "run",
      "--rm",
      "--user",
      "0",
      "every:1",
      "cat /app/built /app/heredoc /app/doc.txt /unpacked/inside.txt; stat -c '%U %a' /etc/app/app.conf; ls /app",
    ]);
    assertEquals(
      look.stdout,
      "built\nfrom-heredoc\ndoc for hi\nfrom the archive\ndaemon 640\nbuilt\ndoc.txt\ngreeting\nheredoc\n",
      look.stderr,
    );
    const [doc] = JSON.parse(
      ok(await ptd(sb, ["image", "inspect", "every:1"])),
    );
    assertEquals(doc.Config.User, "daemon");
    assertEquals(doc.Config.WorkingDir, "/app");
    assertEquals(doc.Config.StopSignal, "SIGINT");
    assertEquals(Object.keys(doc.Config.ExposedPorts).sort(), [
      "53/udp",
      "8080/tcp",
    ]);
    assertEquals(Object.keys(doc.Config.Volumes), ["/data"]);
    assertEquals(doc.Config.Labels["org.example.name"], "every instruction");
    assert(doc.Config.Env.includes("APP_HOME=/app"));
    assertEquals(doc.Author, "ptd tests");
    // Only the target stage's layers: the base's, two COPYs, the ADD.
    assertEquals(doc.RootFS.Layers.length, 4);
    const history = ok(
      await ptd(sb, [
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "every:1",
      ]),
    );
    assertMatch(history, /^\/bin\/sh -c #\(nop\) CMD \["cat \/app\/greeting/);
    assertMatch(
      history,
      /\/bin\/sh -c #\(nop\) COPY dir:[a-f0-9]{64} in \.\/ \n/,
    );
    assertMatch(history, /\/bin\/sh -c #\(nop\) ENV APP_HOME=\/app/);
  });
});

Deno.test("build: ONBUILD triggers run in a child build, not in the parent", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const parent = context(sb, {
      "Containerfile":
        "FROM localhost/bb:1\nONBUILD RUN echo triggered > /onbuild\n",
    });
    assertEquals((await ptd(sb, ["build", "-t", "parent", parent])).code, 0);
    const none = await ptd(sb, ["run", "--rm", "parent", "cat", "/onbuild"]);
    assert(none.code !== 0);
    const child = context(sb, {
      "Containerfile": "FROM parent\nRUN cat /onbuild\n",
    });
    const r = await ptd(sb, ["build", "-t", "child", child]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(
      r.stdout,
      /STEP 2\/3: RUN echo triggered > \/onbuild\n--> \w+\nSTEP 3\/3: RUN cat \/onbuild\ntriggered\n/,
    );
    const [doc] = JSON.parse(ok(await ptd(sb, ["image", "inspect", "child"])));
    assertEquals(doc.Config.OnBuild ?? null, null);
  });
});

/** Layer dirs and blobs in the store: what a build writes. */
function storeCounts(sb: Sandbox): [number, number] {
  return [
    files(`${sb.env.PTD_ROOT}/layers`).length,
    files(`${sb.env.PTD_ROOT}/blobs/sha256`).length,
  ];
}

Deno.test("build cache: an unchanged rebuild makes no container and no layer; a late COPY change reuses the steps before it", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const dir = context(sb, {
      "Containerfile":
        "FROM localhost/bb:1\nCOPY deps.txt /deps.txt\nRUN cat /deps.txt > /installed\nCOPY src.txt /src.txt\nRUN cat /src.txt\n",
      "deps.txt": "deps\n",
      "src.txt": "v1\n",
    });
    const first = ok(await ptd(sb, ["build", "-q", "-t", "c:1", dir])).split(
      "\n",
    )
      .at(-1);
    const before = storeCounts(sb);
    const again = await ptd(sb, ["build", "-t", "c:1", dir]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((again.stdout.match(/Using cache/g) ?? []).length, 4);
    assert(!again.stdout.includes("v1"), "a cached RUN does not run");
    assertEquals(again.stdout.trim().split("\n").at(-1), first);
    assertEquals(storeCounts(sb), before);
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");

    Deno.writeTextFileSync(`${dir}/src.txt`, "v2\n");
    const changed = await ptd(sb, ["build", "-t", "c:2", dir]);
    assertEquals(changed.code, 0, changed.stderr);
    assertEquals((changed.stdout.match(/Using cache/g) ?? []).length, 2);
    assertMatch(changed.stdout, /STEP 5\/5: RUN cat \/src.txt\nv2\n/);

    const fresh = await ptd(sb, ["build", "--no-cache", "-t", "c:3", dir]);
    assertEquals(fresh.code, 0, fresh.stderr);
    assert(!fresh.stdout.includes("Using cache"));
    for (const off of [["--cache-ttl", "1ms"], ["--layers=false"]]) {
      const r = await ptd(sb, ["build", ...off, "-t", "c:4", dir]);
      assertEquals(r.code, 0, r.stderr);
      assert(!r.stdout.includes("Using cache"), off.join(" "));
    }
    // Step images are listed with -a only, and image prune takes them.
    assertEquals(ok(await ptd(sb, ["images", "-q"])).split("\n").length, 5);
    assert(ok(await ptd(sb, ["images", "-aq"])).split("\n").length > 5);
    ok(await ptd(sb, ["image", "prune", "-f"]));
    assertEquals(ok(await ptd(sb, ["images", "-aq"])).split("\n").length, 5);
  });
});

/** What a failed build leaves: containers, step mounts, temp files. */
async function leftovers(sb: Sandbox): Promise<string[]> {
  const ctrs = ok(await ptd(sb, ["ps", "-aq"]));
  return [
    ...ctrs ? [`containers: ${ctrs}`] : [],
    ...files(`${sb.env.PTD_ROOT}/blobs/tmp`).map((f) => `temp: ${f}`),
  ];
}

Deno.test("build errors: exit codes as podman build's, one line naming the step or line, nothing left behind", async () => {
  if (!hasPodman()) return;
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const tar = `${sb.dir}/bb.tar`;
    ok(await ptd(sb, ["save", "-o", tar, "localhost/bb:1"]));
    const cases: [string, RegExp][] = [
      [
        "FROM localhost/bb:1\nRUN exit 3\n",
        /^Error: building at STEP "RUN exit 3": while running runtime: exit status 3$/,
      ],
      [
        'FROM localhost/bb:1\nRUN ["false"]\n',
        /^Error: building at STEP "RUN false": while running runtime: exit status 1$/,
      ],
      [
        "FROM localhost/bb:1\nFOO bar\n",
        /^Error: Containerfile:2: unknown instruction: FOO$/,
      ],
      [
        "FROM localhost/bb:1\nRUN --bogus=1 true\n",
        /^Error: Containerfile:2: RUN only supports the --mount flag$/,
      ],
      [
        "FROM localhost/bb:1\nCOPY nothere /x\n",
        /^Error: Containerfile:2: COPY nothere: no such file or directory in the build context$/,
      ],
      [
        "FROM localhost/bb:1\nCOPY ../x /x\n",
        /^Error: Containerfile:2: COPY \.\.\/x: outside the build context$/,
      ],
      [
        "FROM localhost/nope:1\n",
        /^Error: Containerfile:1: .*localhost\/nope:1/,
      ],
    ];
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      await podmanOk(sb, ["load", "-i", tar]);
      for (const [text, want] of cases) {
        const dir = context(sb, { "Containerfile": text });
        const mine = await engines.ptd(["build", "--pull=never", dir]);
        const theirs = await engines.podman(["build", "--pull=never", dir]);
        assertEquals(
          mine.code,
          theirs.code,
          `${text}: ${mine.stderr} vs ${theirs.stderr}`,
        );
        const lines = mine.stderr.trim().split("\n");
        assertEquals(lines.length, 1, mine.stderr);
        assertMatch(lines[0], want);
        assertEquals(await leftovers(sb), []);
      }
      const bad = await engines.ptd(["build", "--bogus", "."]);
      assertEquals(
        bad.code,
        (await engines.podman(["build", "--bogus", "."])).code,
      );
    });
  });
});

Deno.test("build: the image pushed is read by skopeo and runs under podman", async () => {
  if (!hasPodman()) return;
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const dir = context(sb, {
      "Containerfile":
        'FROM localhost/bb:1\nRUN echo built > /built && rm /hello.txt\nCMD ["cat", "/built"]\n',
    });
    for (const format of ["oci", "docker"]) {
      const name = `${reg.host}/t/built:${format}`;
      const b = await ptd(sb, ["build", "--format", format, "-t", name, dir]);
      assertEquals(b.code, 0, b.stderr);
      // The whiteout hides the base's file under podman too.
      await pushAndRunUnderPodman(sb, name, 2, "built\n", [
        "sh",
        "-c",
        "cat /built; ls /hello.txt || true",
      ]);
    }
  } finally {
    await podman(sb, ["rm", "-fa"]);
    stopPodmanPause(sb);
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("build flags: --target skips stages it does not need; secrets, cache mounts, volumes, args, labels, iidfile, timestamp, squash", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    Deno.mkdirSync(`${sb.dir}/vol`);
    Deno.writeTextFileSync(`${sb.dir}/vol/host.txt`, "from the host\n");
    Deno.writeTextFileSync(`${sb.dir}/token`, "s3cret");
    Deno.writeTextFileSync(`${sb.dir}/args`, "# comment\nV=from-file\n");
    const dir = context(sb, {
      "Containerfile": `FROM localhost/bb:1 AS unused
RUN exit 7
FROM localhost/bb:1 AS base
ARG V
RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /secret-len && echo $V > /v
RUN --mount=type=cache,target=/cache echo c >> /cache/log && wc -l < /cache/log > /cache-count
FROM base AS final
RUN cat /vol/host.txt > /saw-vol
RUN echo more > /more
FROM final AS never
RUN exit 9
`,
    });
    const iid = `${sb.dir}/iid`;
    const r = await ptd(sb, [
      "build",
      "--target",
      "final",
      "--secret",
      `id=tok,src=${sb.dir}/token`,
      "--build-arg-file",
      `${sb.dir}/args`,
      "-v",
      `${sb.dir}/vol:/vol`,
      "--label",
      "made=flags",
      "--annotation",
      "org.example.note=annotated",
      "--iidfile",
      iid,
      "--timestamp",
      "0",
      "--squash",
      "-t",
      "flags:1",
      dir,
    ]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(!r.stdout.includes("exit 7") && !r.stdout.includes("exit 9"));
    const [doc] = JSON.parse(
      ok(await ptd(sb, ["image", "inspect", "flags:1"])),
    );
    assertEquals(Deno.readTextFileSync(iid), `sha256:${doc.Id}`);
    assertEquals(doc.Labels.made, "flags");
    assertEquals(doc.Annotations["org.example.note"], "annotated");
    assertEquals(doc.Created, "1970-01-01T00:00:00Z");
    // FROM base (bb and two RUN layers), then this stage's two as one.
    assertEquals(doc.RootFS.Layers.length, 4);
    const out = ok(
      await ptd(sb, [
        "run",
        "--rm",
        "flags:1",
        "sh",
        "-c",
        "cat /secret-len /v /cache-count /saw-vol /more; ls /run/secrets/tok /cache/log 2>&1 | wc -l",
      ]),
    );
    assertEquals(out, "6\nfrom-file\n1\nfrom the host\nmore\n2");
  });
});

Deno.test("build: a context tarball on stdin, a Containerfile on stdin", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, "localhost/bb:1");
    const dir = context(sb, {
      "Containerfile":
        'FROM localhost/bb:1\nCOPY f.txt /\nCMD ["cat", "/f.txt"]\n',
      "f.txt": "from the tarball\n",
    });
    const tar = await new Deno.Command("tar", {
      args: ["-C", dir, "-czf", "-", "."],
      stdout: "piped",
    }).output();
    const fromTar = await ptd(sb, ["build", "-q", "-t", "tarctx", "-"], {
      stdin: tar.stdout,
    });
    assertEquals(fromTar.code, 0, fromTar.stderr);
    assertEquals(
      ok(await ptd(sb, ["run", "--rm", "tarctx"])),
      "from the tarball",
    );
    const fromStdin = await ptd(sb, [
      "build",
      "-q",
      "-t",
      "stdinfile",
      "-f",
      "-",
      dir,
    ], {
      stdin: 'FROM localhost/bb:1\nCMD ["echo", "piped"]\n',
    });
    assertEquals(fromStdin.code, 0, fromStdin.stderr);
    assertEquals(ok(await ptd(sb, ["run", "--rm", "stdinfile"])), "piped");
    assertEquals(files(`${sb.env.PTD_ROOT}/blobs/tmp`), []);
  });
});

Deno.test("build: .dockerignore (Docker's rules) keeps files out of COPY; ADD fetches a URL with its checksum", async () => {
  const body = "fetched over http\n";
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(body),
  );
  try {
    await withSandbox(async (sb) => {
      await storeBusyboxImage(sb, "localhost/bb:1");
      const url = `http://127.0.0.1:${server.addr.port}/files/remote.txt`;
      const sum = `sha256:${
        Array.from(
          new Uint8Array(
            await crypto.subtle.digest(
              "SHA-256",
              new TextEncoder().encode(body),
            ),
          ),
        ).map((b) => b.toString(16).padStart(2, "0")).join("")
      }`;
      const dir = context(sb, {
        "Containerfile":
          `FROM localhost/bb:1\nCOPY . /ctx/\nADD --checksum=${sum} ${url} /dl/\n`,
        ".dockerignore": "*.log\n!keep.log\nsecrets/\n",
        "a.txt": "a\n",
        "drop.log": "no\n",
        "keep.log": "yes\n",
        "secrets/key": "k\n",
        "sub/b.txt": "b\n",
      });
      const r = await ptd(sb, ["build", "-t", "ign", dir]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(
        ok(
          await ptd(sb, [
            "run",
            "--rm",
            "ign",
            "sh",
            "-c",
            "cd /ctx && find . -type f | sort; cat /dl/remote.txt",
          ]),
        ),
        "./.dockerignore\n./Containerfile\n./a.txt\n./keep.log\n./sub/b.txt\nfetched over http",
      );
      const bad = context(sb, {
        "Containerfile": `FROM localhost/bb:1\nADD --checksum=sha256:${
          "0".repeat(64)
        } ${url} /dl/\n`,
      });
      const wrong = await ptd(sb, ["build", bad]);
      assertEquals(wrong.code, 125);
      assertMatch(wrong.stderr, /^Error: Containerfile:2: .*checksum mismatch/);
    });
  } finally {
    await server.shutdown();
  }
});

if (!minbaseTar()) console.error(`SKIP minbase build test: ${MINBASE_MISSING}`);

Deno.test(
  "build on Debian minbase: a user added by RUN owns what COPY --chown gives it; owners, setuid bits and /bin survive",
  {
    ignore: !minbaseTar(),
  },
  () =>
    withSandbox(async (sb) => {
      ok(await ptd(sb, ["import", minbaseTar()!, "minbase"]));
      const dir = context(sb, {
        "Containerfile": `FROM minbase
RUN useradd -m -u 1234 app && rm /etc/motd
COPY --chown=app:app app.txt /home/app/
COPY tool.sh /usr/local/bin/tool
RUN chmod 755 /usr/local/bin/tool
USER app
WORKDIR /home/app
`,
        "app.txt": "mine\n",
        "tool.sh": "#!/bin/sh\necho tool ran as $(id -un)\n",
      });
      const r = await ptd(sb, ["build", "-t", "deb", dir]);
      assertEquals(r.code, 0, r.stderr + r.stdout);
      const out = ok(
        await ptd(sb, [
          "run",
          "--rm",
          "deb",
          "sh",
          "-c",
          "tool; pwd; stat -c '%U:%G:%a' app.txt /home/app /usr/bin/passwd /etc/shadow /tmp; ls /etc/motd 2>/dev/null || echo no-motd",
        ]),
      );
      assertEquals(
        out,
        "tool ran as app\n/home/app\napp:app:644\napp:app:755\nroot:root:4755\nroot:shadow:640\nroot:root:1777\nno-motd",
      );
    }),
);

Deno.test("build on a vfs store: RUN refused in one line, nothing left", async () => {
  await withSandbox(async (sb) => {
    const vfs = ["--storage-driver", "vfs"];
    ok(await ptd(sb, [...vfs, "images"]));
    await storeBusyboxImage(sb, "localhost/bb:1");
    const dir = context(sb, {
      "Containerfile": "FROM localhost/bb:1\nRUN true\n",
    });
    const r = await ptd(sb, [...vfs, "build", dir]);
    assertEquals(r.code, 125);
    assertMatch(
      r.stderr,
      /^Error: Containerfile:2: build with the vfs storage driver is not supported/,
    );
    assertEquals(ok(await ptd(sb, [...vfs, "ps", "-aq"])), "");
  });
});

/** Image ids `images -aq` lists, as a set. */
async function allImages(run: Runner): Promise<Set<string>> {
  const r = await run(["images", "-aq", "--no-trunc"]);
  assertEquals(r.code, 0, r.stderr);
  return new Set(r.stdout.split("\n").filter((l) => l));
}

/**
 * A differential test: a sandbox with localhost/bb:1 in both engines'
 * stores, `fn` given the engines side by side.
 */
async function bothWithBusybox(
  fn: (sb: Sandbox, engines: Record<"podman" | "ptd", Runner>) => Promise<void>,
): Promise<void> {
  if (!hasPodman()) return;
  await withSandbox(async (sb) => {
    await storeBusyboxForBoth(sb, "localhost/bb:1");
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, () => fn(sb, engines));
  });
}

Deno.test("build --layers=false leaves only the final image (the stage's changes as one layer); -q prints only its id, RUN's errors still shown", () =>
  bothWithBusybox(async (sb, engines) => {
    const dir = context(sb, {
      "Containerfile":
        "FROM localhost/bb:1\nRUN echo one > /one\nENV A=1\nRUN echo out; echo err >&2; echo two > /two\n",
    });
    const blobs = storeCounts(sb);
    for (const [name, run] of Object.entries(engines)) {
      const before = await allImages(run);
      const r = await run(["build", "--layers=false", "-t", "lf", dir]);
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      const after = await allImages(run);
      const added = [...after].filter((id) => !before.has(id));
      assertEquals(added.length, 1, `${name}: ${[...before]} -> ${[...after]}`);
      const layers = await run([
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "lf",
      ]);
      assertEquals(layers.stdout.trim(), "2", name);
      const files = await run(["run", "--rm", "lf", "cat", "/one", "/two"]);
      assertEquals(files.stdout, "one\ntwo\n", `${name}: ${files.stderr}`);
    }
    // The step images' layers and blobs went with them: one layer dir,
    // and the final image's layer, config and manifest.
    const [layers, blobCount] = storeCounts(sb);
    assertEquals([layers, blobCount], [blobs[0] + 1, blobs[1] + 3]);

    for (const [name, run] of Object.entries(engines)) {
      const q = await run(["build", "-q", "--no-cache", dir]);
      assertEquals(q.code, 0, `${name}: ${q.stderr}`);
      assertMatch(q.stdout, /^[0-9a-f]{64}\n$/, name);
      assertEquals(q.stderr, "err\n", name);
    }
  }));

Deno.test("build: COPY --from=STAGE with globs and RUN --mount=type=bind,from=STAGE|IMAGE, as podman build; a changed stage misses the cache", () =>
  bothWithBusybox(async (sb, engines) => {
    const file = (v: string) =>
      `FROM localhost/bb:1 AS b
RUN mkdir -p /out/sub && echo ${v} > /out/a.txt && echo b > /out/b.txt && echo c > /out/c.log && echo s > /out/sub/s.txt
FROM localhost/bb:1
RUN --mount=type=bind,from=b,source=/out,target=/mnt ls /mnt > /mounted && cat /mnt/a.txt >> /mounted
RUN --mount=type=bind,from=localhost/bb:1,target=/bb ls /bb/bin/busybox > /img
COPY --from=b /out/*.txt /dst/
COPY --from=b /out/*/s.txt /dst2/
RUN ls /dst /dst2; cat /dst/a.txt /mounted /img
`;
    const dir = context(sb, { "Containerfile": file("a") });
    const want = (v: string) =>
      `/dst:\na.txt\nb.txt\n\n/dst2:\ns.txt\n${v}\na.txt\nb.txt\nc.log\nsub\n${v}\n/bb/bin/busybox\n`;
    for (const [name, run] of Object.entries(engines)) {
      const r = await run(["build", "--pull=never", "-t", "g", dir]);
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      assert(r.stdout.includes(want("a")), `${name}: ${r.stdout}`);
    }
    const none = context(sb, {
      "Containerfile":
        "FROM localhost/bb:1 AS b\nFROM localhost/bb:1\nCOPY --from=b /nothing*.txt /dst/\n",
    });
    const codes = [];
    for (const run of Object.values(engines)) {
      codes.push((await run(["build", "--pull=never", none])).code);
    }
    assertEquals(codes[0], codes[1]);
    assertEquals(await leftovers(sb), []);
    // The mount's stage is part of the RUN's key: a change to it reruns.
    Deno.writeTextFileSync(`${dir}/Containerfile`, file("z"));
    const r = await ptd(sb, ["build", "-t", "g", dir]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes(want("z")), r.stdout);
  }));

Deno.test("build --pull newer: pulls when the registry's digest differs from the local image's, else (or unreachable) uses the local one, as Podman documents it", async () => {
  if (!hasPodman()) return;
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  const base = `${reg.host}/t/base:1`;
  const env = { CONTAINERS_REGISTRIES_CONF: sb.env.CONTAINERS_REGISTRIES_CONF };
  const engines = bothEngines(sb, env);
  try {
    await sideBySide(sb, engines, async () => {
      await storeBusyboxImage(sb, "localhost/bb:1");
      const version = (v: string) =>
        context(sb, {
          "Containerfile": `FROM localhost/bb:1\nRUN echo ${v} > /v\n`,
        });
      ok(await ptd(sb, ["build", "-q", "-t", "local/x", version("x")]));
      ok(await ptd(sb, ["push", "local/x", base]));
      // Both engines hold x as pulled from the registry; then y replaces it
      // there.
      ok(await ptd(sb, ["pull", "-q", base]));
      assertEquals((await engines.podman(["pull", "-q", base])).code, 0);
      ok(await ptd(sb, ["build", "-q", "-t", "local/y", version("y")]));
      ok(await ptd(sb, ["push", "local/y", base]));
      const child = context(sb, {
        "Containerfile": `FROM ${base}\nRUN cat /v\n`,
      });
      const build = async (policy: string) => {
        const out: Record<string, Result> = {};
        for (const [name, run] of Object.entries(engines)) {
          out[name] = await run(["build", `--pull=${policy}`, child]);
        }
        assertEquals(out.ptd.code, out.podman.code, out.ptd.stderr);
        return out;
      };
      for (const r of Object.values(await build("missing"))) {
        assertMatch(r.stdout, /\nx\n/, r.stderr);
      }
      // Podman documents newer as this; its 4.3 build runs it as missing
      // (its debug log says "policy: missing"), so ptd is held to the
      // documented behaviour here, and to Podman's where they agree.
      const newer = await build("newer");
      assertMatch(newer.ptd.stdout, /\ny\n/, newer.ptd.stderr);
      // Same digest now: nothing is pulled (the record is not rewritten).
      const [y] = JSON.parse(ok(await ptd(sb, ["image", "inspect", base])));
      const record = `${sb.env.PTD_ROOT}/images/${y.Id}.json`;
      const at = Deno.statSync(record).mtime;
      for (const r of Object.values(await build("newer"))) {
        assertEquals(r.code, 0, r.stderr);
      }
      assertEquals(Deno.statSync(record).mtime, at);
      await reg.stop();
      assertEquals((await build("newer")).ptd.code, 0);
      assert((await build("always")).ptd.code !== 0);
    });
  } finally {
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test("build killed outright (kill -9) in a RUN step: its container is listed only by ps -a --external, as podman's; rm or the next build removes it", () =>
  bothWithBusybox(async (sb, engines) => {
    const dir = context(sb, {
      "Containerfile":
        "FROM localhost/bb:1\nRUN touch /flag/started; while [ -e /flag/started ] && [ ! -e /flag/stop ]; do sleep 0.1; done\n",
    });
    // Podman's step container outlives its build (and its rm -f): the stop
    // file, or the flag dir going with the sandbox, ends what is left.
    const flags: string[] = [];
    /** Starts a build of `dir` with `cmd`, kills it in its RUN step. */
    const killInRun = async (cmd: (args: string[]) => Deno.Command) => {
      const flag = `${sb.dir}/flag-${crypto.randomUUID().slice(0, 6)}`;
      Deno.mkdirSync(flag, { mode: 0o777 });
      flags.push(flag);
      const child = cmd(["build", "-v", `${flag}:/flag`, dir]).spawn();
      await until(() => {
        try {
          return Deno.statSync(`${flag}/started`).isFile;
        } catch {
          return false;
        }
      }, 30_000);
      child.kill("SIGKILL");
      await child.output();
    };
    const listed = async (run: Runner, external: boolean) => {
      const r = await run(["ps", "-aq", ...external ? ["--external"] : []]);
      assertEquals(r.code, 0, r.stderr);
      return r.stdout.split("\n").filter((l) => l);
    };
    const commands = {
      podman: (args: string[]) => {
        const line = podmanLine(sb, args);
        return new Deno.Command(line.argv[0], {
          args: line.argv.slice(1),
          env: line.env,
          stdout: "piped",
          stderr: "piped",
        });
      },
      ptd: (args: string[]) => ptdCommand(sb, args),
    };
    try {
      for (const [name, run] of Object.entries(engines)) {
        await killInRun(commands[name as "ptd" | "podman"]);
        assertEquals(await listed(run, false), [], name);
        const [id] = await listed(run, true);
        assert(id, `${name}: no build container left`);
        const rm = await run(["rm", "-f", id]);
        assertEquals(rm.code, 0, `${name}: ${rm.stderr}`);
        assertEquals(await listed(run, true), [], name);
      }
      // The next build sweeps a dead build's step container (and its
      // process is gone with it).
      await killInRun(commands.ptd);
      const [id] = await listed(engines.ptd, true);
      const [doc] = JSON.parse(ok(await ptd(sb, ["inspect", id])));
      const quick = context(sb, { "Containerfile": "FROM localhost/bb:1\n" });
      ok(await ptd(sb, ["build", "-q", quick]));
      assertEquals(await listed(engines.ptd, true), []);
      assert(!alive(doc.State.Pid) || doc.State.Pid === 0);
      assertEquals(files(`${sb.env.PTD_ROOT}/build-steps`), []);
    } finally {
      for (const f of flags) Deno.writeTextFileSync(`${f}/stop`, "");
    }
  }));

/** VFS_CAP_REVISION_2 | effective, permitted cap_net_raw (13), LE u32s. */
const CAP_NET_RAW_V2 = new Uint8Array(
  new Uint32Array([0x02000001, 1 << 13, 0, 0, 0]).buffer,
);
const USER_XATTR = new Uint8Array([0xff, 0x00, 0x0a, 0x3d, 0x80]);

Deno.test("build and commit carry file capabilities and user xattrs into their layers (a RUN that copies a file up keeps them; --layers=false squashes them along), as podman build", async () => {
  if (!hasPodman()) return;
  await withSandbox(async (sb) => {
    const tar = `${sb.dir}/xcap.tar`;
    Deno.writeFileSync(
      tar,
      await makeTar([...busyboxEntries(), { name: "opt", type: "directory" }, {
        name: "opt/cat",
        mode: 0o755,
        data: Deno.readFileSync("/bin/busybox"),
        xattrs: {
          "security.capability": CAP_NET_RAW_V2,
          "user.note": USER_XATTR,
        },
      }]),
    );
    const engines = bothEngines(sb);
    const env = `ENV PATH=${PATH}`;
    ok(await ptd(sb, ["import", "--change", env, tar, "localhost/xcap:1"]));
    await podmanOk(sb, [
      "import",
      "-q",
      "--change",
      env,
      tar,
      "localhost/xcap:1",
    ]);
    const dir = context(sb, {
      // chmod copies the file up into the step's upper dir.
      "Containerfile": "FROM localhost/xcap:1\nRUN chmod 711 /opt/cat\n",
    });
    // --cap-add gives uid 1000 the capability as an ambient one too; the
    // exec of a file with capabilities clears that (execve(2)), so only
    // the file's capability leaves it effective and not ambient.
    const capEff = async (run: Runner, image: string) => {
      const r = await run([
        "run",
        "--rm",
        "--cap-add",
        "NET_RAW",
        "-u",
        "1000",
        image,
        "/opt/cat",
        "/proc/self/status",
      ]);
      assertEquals(r.code, 0, `${image}: ${r.stderr}`);
      const field = (f: string) =>
        r.stdout.match(new RegExp(`^${f}:\\s*(\\w+)$`, "m"))?.[1];
      return `${field("CapEff")} ${field("CapAmb")}`;
    };
    await sideBySide(sb, engines, async () => {
      for (const [name, run] of Object.entries(engines)) {
        // --layers=false squashes the stage's layers into one.
        for (const flags of [[], ["--layers=false"]]) {
          const b = await run(["build", "-q", ...flags, "-t", "built", dir]);
          assertEquals(b.code, 0, `${name}: ${b.stderr}`);
          assertEquals(
            await capEff(run, "built"),
            "0000000000002000 0000000000000000",
            name,
          );
        }
      }
      ok(
        await ptd(sb, [
          "run",
          "--name",
          "c",
          "localhost/xcap:1",
          "chmod",
          "711",
          "/opt/cat",
        ]),
      );
      ok(await ptd(sb, ["commit", "c", "committed"]));
      assertEquals(
        await capEff(engines.ptd, "committed"),
        "0000000000002000 0000000000000000",
      );
    });
    // The user xattr too: in the base's layer, the build's, the squashed
    // one of --layers=false and the commit's. The one-step build's layer
    // and its squash can be the same bytes, and so one content-addressed
    // directory: three or four directories, never fewer.
    const layers = files(`${sb.env.PTD_ROOT}/layers`).filter((l) => {
      try {
        const v = lgetxattrBytes(
          `${sb.env.PTD_ROOT}/layers/${l}/opt/cat`,
          "user.note",
        );
        return v !== undefined && v.join() === USER_XATTR.join();
      } catch {
        return false;
      }
    });
    assert(layers.length >= 3, `the xattr is in ${layers.length} layers`);
  });
});
