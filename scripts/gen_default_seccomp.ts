/**
 * Writes src/security/default_seccomp.json: Podman's default seccomp profile
 * as containers-common installs it (Debian's golang-github-containers-common,
 * Apache-2.0), kept so that a host without that package still gets Podman's
 * filter, as Podman does with the copy built into it. Run it with
 * `deno run -A scripts/gen_default_seccomp.ts` after the package changes.
 */
const source = "/usr/share/containers/seccomp.json";
const profile = JSON.parse(Deno.readTextFileSync(source));
Deno.writeTextFileSync(
  new URL("../src/security/default_seccomp.json", import.meta.url),
  JSON.stringify(profile) + "\n",
);
