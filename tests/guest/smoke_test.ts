import { assertStringIncludes } from "../assert.ts";
import { guestTest, ownCgroup } from "./guest.ts";

guestTest("guest: the tests run in a delegated cgroup v2 subtree", () => {
  const cg = ownCgroup();
  assertStringIncludes(cg, "user@1000.service");
  const top = cg.slice(0, cg.indexOf("user@1000.service") + 17);
  assertStringIncludes(
    Deno.readTextFileSync(`${top}/cgroup.subtree_control`),
    "memory",
  );
  console.log(
    "own cgroup",
    cg,
    Deno.readTextFileSync(`${top}/cgroup.subtree_control`),
  );
  return Promise.resolve();
});
