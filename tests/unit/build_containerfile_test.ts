/**
 * Reading a Containerfile: stages and their names, line numbers, flags,
 * heredocs, the escape directive; errors naming the line; config steps as
 * Docker applies them (and commit --change through them).
 */
import { assertEquals, assertThrows } from "../assert.ts";
import { applyConfigStep } from "../../src/build/config_steps.ts";
import { parseContainerfile } from "../../src/build/containerfile.ts";
import { applyChanges } from "../../src/engine/commit.ts";
import type { ContainerDefaults } from "../../src/image/oci.ts";

Deno.test("containerfile: stages, lines, flags and Podman's step text", () => {
  const cf = parseContainerfile(
    `ARG BASE=x
FROM $BASE AS Build
RUN echo a \\
  && echo b
FROM scratch
COPY --from=build --chown=1:2 /a /b
`,
    "Containerfile",
  );
  assertEquals(cf.globalArgs.map((a) => a.args), ["BASE=x"]);
  assertEquals(cf.stages.map((s) => [s.index, s.name]), [[0, "build"], [
    1,
    undefined,
  ]]);
  const [run] = cf.stages[0].steps;
  assertEquals([run.keyword, run.line, run.args], [
    "RUN",
    3,
    "echo a   && echo b",
  ]);
  const [copy] = cf.stages[1].steps;
  assertEquals(copy.flags, [{ name: "from", value: "build" }, {
    name: "chown",
    value: "1:2",
  }]);
  assertEquals(copy.text, "COPY --from=build --chown=1:2 /a /b");
});

Deno.test("containerfile: heredocs, quoted ones unexpanded, <<- strips tabs", () => {
  const cf = parseContainerfile(
    "FROM x\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<'END' /f\n$KEEP\nEND\nRUN <<-T\n\tindented\nT\n",
    "Containerfile",
  );
  const [run, copy, tabs] = cf.stages[0].steps;
  assertEquals(run.heredocs, [{
    name: "EOF",
    content: "echo $HOME\n",
    expand: true,
  }]);
  assertEquals(run.args, "<<EOF");
  assertEquals(copy.heredocs, [{
    name: "END",
    content: "$KEEP\n",
    expand: false,
  }]);
  assertEquals(tabs.heredocs[0].content, "indented\n");
});

Deno.test("containerfile: errors name the file and line", () => {
  const bad: [string, string][] = [
    ["FROM x\nFOO bar\n", "Containerfile:2: unknown instruction: FOO"],
    [
      "FROM x\nRUN --bogus=1 true\n",
      "Containerfile:2: RUN only supports the --mount flag",
    ],
    ["RUN true\n", "Containerfile:1: no FROM before RUN"],
    [
      "FROM a b\n",
      "Containerfile:1: FROM requires either one or three arguments",
    ],
    ["# only a comment\n", "Containerfile: no FROM instruction"],
  ];
  for (const [text, want] of bad) {
    assertThrows(
      () => parseContainerfile(text, "Containerfile"),
      new RegExp(want.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    );
  }
});

/** Applies the steps of `text` (after a FROM) to an empty config. */
function apply(text: string): ContainerDefaults {
  const c: ContainerDefaults = {};
  const vars = new Map<string, string>();
  for (
    const inst of parseContainerfile(`FROM x\n${text}`, "C").stages[0].steps
  ) {
    applyConfigStep(c, inst, vars, "\\", "C");
  }
  return c;
}

Deno.test("config steps: as Docker applies them", () => {
  const c = apply(`ENV A=1 B="two words"
ENV C=$A-\${B}
WORKDIR /app
WORKDIR sub/../lib
SHELL ["/bin/bash", "-c"]
CMD echo $A
ENTRYPOINT ["/run.sh"]
EXPOSE 80 53/udp
VOLUME /data /cache
LABEL "a b"=c
STOPSIGNAL SIGINT
HEALTHCHECK --interval=1m30s --retries=2 CMD curl -f http://localhost/
ONBUILD RUN make
USER app:app
`);
  assertEquals(c.Env, ["A=1", "B=two words", "C=1-two words"]);
  assertEquals(c.WorkingDir, "/app/lib");
  assertEquals(c.Cmd, ["/bin/bash", "-c", "echo $A"]);
  assertEquals(c.Entrypoint, ["/run.sh"]);
  assertEquals(Object.keys(c.ExposedPorts!), ["80/tcp", "53/udp"]);
  assertEquals(Object.keys(c.Volumes!), ["/data", "/cache"]);
  assertEquals(c.Labels, { "a b": "c" });
  assertEquals(c.StopSignal, "SIGINT");
  assertEquals(c.Healthcheck, {
    Test: ["CMD-SHELL", "curl -f http://localhost/"],
    Interval: 90e9,
    Retries: 2,
  });
  assertEquals(c.OnBuild, ["RUN make"]);
  assertEquals(c.User, "app:app");
  assertThrows(
    () => apply("EXPOSE eighty\n"),
    /C:2: invalid containerPort: eighty/,
  );
  assertThrows(
    () => apply("SHELL /bin/sh\n"),
    /C:2: SHELL requires the arguments to be in JSON form/,
  );
  assertThrows(
    () => apply("ONBUILD FROM x\n"),
    /isn't allowed as an ONBUILD trigger/,
  );
});

Deno.test("commit --change: Podman's instructions, others refused", () => {
  const c = applyChanges({ Env: ["A=1"] }, [
    'CMD ["x"]',
    "ENV B=$A",
    "LABEL l=v",
  ]);
  assertEquals(c.Cmd, ["x"]);
  assertEquals(c.Env, ["A=1", "B=1"]);
  assertEquals(c.Labels, { l: "v" });
  assertThrows(
    () => applyChanges({}, ["RUN true"]),
    /invalid change "RUN true"/,
  );
});
