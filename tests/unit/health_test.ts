import { assertEquals, assertThrows } from "../assert.ts";
import {
  chooseHealthcheck,
  goDuration,
  goDurationString,
  hasHealthcheck,
  healthCommand,
  parseHealthFlags,
} from "../../src/container/health_config.ts";

const S = 1e9;

Deno.test("health: --health-* flags with Podman's defaults", () => {
  assertEquals(parseHealthFlags({ healthCmd: "curl -f x" }), {
    healthcheck: {
      Test: ["CMD-SHELL", "curl -f x"],
      Interval: 30 * S,
      Timeout: 30 * S,
      Retries: 3,
    },
    healthOnFailure: undefined,
  });
  assertEquals(
    parseHealthFlags({
      healthCmd: '["true","x"]',
      healthInterval: "1h",
      healthStartPeriod: "10s",
      healthTimeout: "5s",
      healthRetries: "7",
      healthOnFailure: "restart",
    }),
    {
      healthcheck: {
        Test: ["CMD", "true", "x"],
        StartPeriod: 10 * S,
        Interval: 3600 * S,
        Timeout: 5 * S,
        Retries: 7,
      },
      healthOnFailure: "restart",
    },
  );
  // "disable" and 0: no timer, only `healthcheck run`.
  assertEquals(
    parseHealthFlags({ healthCmd: "true", healthInterval: "disable" })
      .healthcheck,
    { Test: ["CMD-SHELL", "true"], Timeout: 30 * S, Retries: 3 },
  );
  // Without --health-cmd the timing flags change nothing (Podman 4.3).
  assertEquals(parseHealthFlags({ healthInterval: "1s" }), {
    healthOnFailure: undefined,
  });
  assertEquals(parseHealthFlags({ healthcheck: false }).healthcheck, {
    Test: ["NONE"],
  });
  assertEquals(parseHealthFlags({ healthCmd: "NONE" }).healthcheck?.Test, [
    "NONE",
  ]);
});

Deno.test("health: bad flags in Podman's words", () => {
  const cases: [Parameters<typeof parseHealthFlags>[0], string][] = [
    [
      { healthOnFailure: "bad" },
      'invalid on-failure action "bad" for health check: supported actions are none,kill,restart,stop',
    ],
    [
      { healthCmd: "true", healthInterval: "bad" },
      'invalid healthcheck-interval: time: invalid duration "bad"',
    ],
    [
      { healthCmd: "true", healthRetries: "0" },
      "healthcheck-retries must be greater than 0",
    ],
    [
      { healthCmd: "true", healthTimeout: "0" },
      "healthcheck-timeout must be at least 1 second",
    ],
    [
      { healthCmd: "true", healthStartPeriod: "-1s" },
      "healthcheck-start-period must be 0 seconds or greater",
    ],
    [
      { healthcheck: false, healthCmd: "true" },
      "cannot specify both --no-healthcheck and --health-cmd",
    ],
    [
      { healthCmd: "[]" },
      "must define a healthcheck command for all healthchecks",
    ],
  ];
  for (const [flags, msg] of cases) {
    assertEquals(assertThrows(() => parseHealthFlags(flags)).message, msg);
  }
});

Deno.test("health: the image's check gets Podman's default times", () => {
  assertEquals(chooseHealthcheck(undefined, { Test: ["CMD", "true"] }), {
    Test: ["CMD", "true"],
    Interval: 30 * S,
    Timeout: 30 * S,
  });
  const own = { Test: ["NONE"] };
  assertEquals(chooseHealthcheck(own, { Test: ["CMD", "true"] }), own);
  assertEquals(chooseHealthcheck(undefined, undefined), undefined);
  assertEquals(hasHealthcheck(own), false);
  assertEquals(hasHealthcheck({ Test: ["CMD", "true"] }), true);
  assertEquals(healthCommand({ Test: ["CMD-SHELL", "a && b"] }), [
    "/bin/sh",
    "-c",
    "a && b",
  ]);
  assertEquals(healthCommand({ Test: ["CMD", "a", "b"] }), ["a", "b"]);
});

Deno.test("health: Go's durations, both ways", () => {
  assertEquals(goDuration("1h30m"), 5400 * S);
  assertEquals(goDuration("1.5s"), 1.5 * S);
  assertEquals(goDuration("500ms"), 0.5 * S);
  assertEquals(goDuration("-1s"), -S);
  assertEquals(goDuration("0"), 0);
  assertEquals(goDuration("5"), undefined);
  assertEquals(goDuration("1x"), undefined);
  assertEquals(goDurationString(S), "1s");
  assertEquals(goDurationString(90 * S), "1m30s");
  assertEquals(goDurationString(3600 * S), "1h0m0s");
  assertEquals(goDurationString(0.5 * S), "500ms");
  assertEquals(goDurationString(1.5 * S), "1.5s");
});
