import { assertEquals } from "../assert.ts";
import { descriptors, goDuration } from "../../src/container/top.ts";

Deno.test("top: durations as Go's time.Duration.String() prints them", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [999, "999µs"],
    [1500, "1.5ms"],
    [1_000_000, "1s"],
    [2_572_675, "2.572675s"],
    [61_500_000, "1m1.5s"],
    [3_600_000_000, "1h0m0s"],
    [3_725_000_001, "1h2m5.000001s"],
  ];
  for (const [us, text] of cases) assertEquals(goDuration(us), text, `${us}`);
});

Deno.test("top: descriptors, split at commas; anything else is for ps(1)", () => {
  const podmanDefault = [
    "user",
    "pid",
    "ppid",
    "pcpu",
    "etime",
    "tty",
    "time",
    "args",
  ];
  assertEquals(descriptors([]), podmanDefault);
  assertEquals(descriptors([""]), podmanDefault);
  assertEquals(descriptors([","]), podmanDefault);
  assertEquals(descriptors(["pid,ppid", "huser"]), ["pid", "ppid", "huser"]);
  assertEquals(descriptors(["%C", "%U"]), ["pcpu", "user"]);
  assertEquals(descriptors(["aux"]), undefined);
  assertEquals(descriptors(["pid", "bogus"]), undefined);
  assertEquals(descriptors(["-eo", "pid"]), undefined);
});
