/**
 * `ptd commit` rootless: a container's changes (a new file, a deleted one)
 * become a layer over its image, with -c/-m/-a applied; --format docker
 * and --squash; the image pushed is read by skopeo and runs under podman.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import { ok, ptd, type Sandbox, withSandbox } from "../helpers.ts";
import {
  bothEngines,
  hasPodman,
  podman,
  sideBySide,
  stopPodmanPause,
} from "../podman.ts";
import {
  pushAndRunUnderPodman,
  sandboxFor,
  startRegistry,
} from "../registry.ts";

/** A stopped container `c` that added /new and /d/f and deleted /hello.txt. */
async function changed(sb: Sandbox): Promise<void> {
  await storeBusyboxImage(sb, "localhost/bb:1");
  ok(
    await ptd(sb, [
      "run",
      "--name",
      "c",
      "localhost/bb:1",
      "sh",
      "-c",
      "echo new > /new && rm /hello.txt && mkdir /d && echo f > /d/f",
    ]),
  );
}

async function inspect(sb: Sandbox, ref: string) {
  return JSON.parse(ok(await ptd(sb, ["image", "inspect", ref])))[0];
}

Deno.test("commit: the container's changes as a layer, with --change, --message and --author", async () => {
  await withSandbox(async (sb) => {
    await changed(sb);
    const id = ok(
      await ptd(sb, [
        "commit",
        "-c",
        'CMD ["cat", "/new", "/d/f"]',
        "-c",
        "ENV X=1",
        "-c",
        "LABEL made=by-commit",
        "-m",
        "the message",
        "-a",
        "someone",
        "c",
        "committed:1",
      ]),
    );
    assertMatch(id, /^[a-f0-9]{64}$/);
    assertEquals(ok(await ptd(sb, ["run", "--rm", "committed:1"])), "new\nf");
    const gone = await ptd(sb, [
      "run",
      "--rm",
      "committed:1",
      "ls",
      "/hello.txt",
    ]);
    assert(gone.code !== 0, "the deleted file stays deleted");
    const doc = await inspect(sb, "committed:1");
    assertEquals(doc.Id, id);
    assertEquals(doc.Author, "someone");
    assert(doc.Config.Env.includes("X=1"));
    assertEquals(doc.Config.Labels.made, "by-commit");
    assertEquals(doc.RootFS.Layers.length, 2);
    const comment = ok(
      await ptd(sb, ["history", "--format", "{{.Comment}}", "committed:1"]),
    ).split("\n")[0];
    assertEquals(comment, "the message");
    // Podman refuses the same bad change with the same exit code.
    const bad = await ptd(sb, ["commit", "-c", "RUN true", "c", "x"]);
    assertEquals(bad.code, 125);
    assertMatch(bad.stderr, /^Error: invalid change "RUN true"/);
  });
});

Deno.test("commit --format docker and --squash", async () => {
  await withSandbox(async (sb) => {
    await changed(sb);
    ok(await ptd(sb, ["commit", "--format", "docker", "c", "dock:1"]));
    const doc = await inspect(sb, "dock:1");
    assertEquals(
      doc.ManifestType,
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    ok(await ptd(sb, ["commit", "--squash", "c", "flat:1"]));
    assertEquals((await inspect(sb, "flat:1")).RootFS.Layers.length, 1);
    assertEquals(
      ok(
        await ptd(sb, [
          "run",
          "--rm",
          "flat:1",
          "sh",
          "-c",
          "cat /new; ls /hello.txt || echo gone",
        ]),
      ),
      "new\ngone",
    );
  });
});

Deno.test("commit: a missing container as podman says it; the image pushed runs under podman", async () => {
  if (!hasPodman()) return;
  const reg = await startRegistry();
  const sb = await sandboxFor(reg.host);
  try {
    const engines = bothEngines(sb);
    await sideBySide(sb, engines, async () => {
      const [mine, theirs] = [
        await engines.ptd(["commit", "nosuch", "x"]),
        await engines.podman(["commit", "nosuch", "x"]),
      ];
      assertEquals(mine.code, theirs.code);
    });
    await changed(sb);
    const name = `${reg.host}/t/committed:1`;
    ok(await ptd(sb, ["commit", "-c", 'CMD ["cat", "/new"]', "c", name]));
    await pushAndRunUnderPodman(sb, name, 2, "new\n");
  } finally {
    await ptd(sb, ["rm", "-f", "c"]);
    await podman(sb, ["rm", "-fa"]);
    stopPodmanPause(sb);
    await sb.cleanup();
    await reg.cleanup();
  }
});

Deno.test(
  "commit takes the anonymous volumes as VOLUMEs, --include-volumes every volume and bind, as Podman",
  {
    ignore: !hasPodman(),
  },
  async () => {
    await withSandbox(async (sb) => {
      await storeBusyboxForBoth(sb, "localhost/vbox");
      const bound = `${sb.dir}/bound`;
      Deno.mkdirSync(bound);
      const engines = bothEngines(sb);
      await sideBySide(sb, engines, async () => {
        const seen: Record<string, string[][]> = {};
        for (const [name, run] of Object.entries(engines)) {
          const line = [
            "create",
            "--name",
            "vc",
            "-v",
            "/anon",
            "-v",
            "named:/named",
            "-v",
            `${bound}:/bound`,
            "localhost/vbox",
            "true",
          ];
          assertEquals((await run(line)).code, 0, name);
          seen[name] = [];
          for (const extra of [[], ["--include-volumes"]]) {
            const c = await run(["commit", "-q", ...extra, "vc", "vimg"]);
            assertEquals(c.code, 0, `${name}: ${c.stderr}`);
            const img = JSON.parse(
              (await run(["image", "inspect", "vimg"])).stdout,
            );
            seen[name].push(Object.keys(img[0].Config.Volumes ?? {}).sort());
            await run(["rmi", "-f", "vimg"]);
          }
          await run(["rm", "-v", "vc"]);
          await run(["volume", "rm", "named"]);
        }
        assertEquals(seen.ptd, [["/anon"], ["/anon", "/bound", "/named"]]);
        assertEquals(seen.ptd, seen.podman);
      });
    });
  },
);
