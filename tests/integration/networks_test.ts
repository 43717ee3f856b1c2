/**
 * Issue 17's "done when" for networks, rootless: containers on one named
 * network reach each other by name, alias and short id through ptd's DNS
 * server; other networks and the outside of an --internal one stay out
 * of reach; ports publish as on the default network; and nothing is left
 * running once the last container is gone, whatever was killed.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  alive,
  freePort,
  ok,
  ptd,
  REPO,
  ROOTLESS,
  type Sandbox,
  until,
  webRoot,
  withSandbox,
} from "../helpers.ts";

const BODY = "hello over the bridge\n";

function withRoot(fn: (sb: Sandbox, root: string) => Promise<void>) {
  return withSandbox(async (sb) => {
    const root = webRoot(sb.dir, BODY, ["nslookup", "timeout"]);
    try {
      await fn(sb, root);
    } finally {
      await ptd(sb, ["rm", "-fa"]);
      await until(async () => (await leftovers(sb)).length === 0);
    }
  });
}

/** Live processes of this sandbox: holder, its daemon, slirp4netns, ... */
function leftovers(sb: Sandbox): Promise<number[]> {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!(pid > 0) || pid === Deno.pid || !alive(pid)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      const cwd = Deno.readLinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(sb.dir) || cwd.startsWith(sb.dir)) out.push(pid);
    } catch { /* gone, or not ours */ }
  }
  return Promise.resolve(out);
}

const HTTPD = ["httpd", "-f", "-p", "80", "-h", "/www"];

/** A shell line that fetches / from NAME, resolved by the network's DNS. */
const fetchByName = (name: string) =>
  `ip=$(nslookup ${name} | grep '^Address: ' | head -n1 | cut -d' ' -f2) && ` +
  `[ -n "$ip" ] && wget -qO- "http://$ip/"`;

async function client(
  sb: Sandbox,
  root: string,
  network: string,
  script: string,
) {
  return await ptd(sb, [
    "run",
    "--rm",
    "--network",
    network,
    "--rootfs",
    root,
    "sh",
    "-c",
    script,
  ]);
}

/** `run -d --name NAME --network NET [ARGS] --rootfs ROOT CMD`: its id. */
async function detached(
  sb: Sandbox,
  root: string,
  name: string,
  network: string,
  cmd: string[],
  args: string[] = [],
): Promise<string> {
  return ok(
    await ptd(sb, [
      "run",
      "-d",
      "--name",
      name,
      "--network",
      network,
      ...args,
      "--rootfs",
      root,
      ...cmd,
    ]),
  );
}

Deno.test({
  name:
    "networks: by name, alias and short id; not from another network; -p on 127.0.0.1; connect and disconnect at once",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "front"]));
      ok(await ptd(sb, ["network", "create", "back"]));
      const port = freePort();
      const id = await detached(sb, root, "web", "front", HTTPD, [
        "--network-alias",
        "www",
        "-p",
        `127.0.0.1:${port}:80`,
      ]);
      for (const name of ["web", "www", id.slice(0, 12)]) {
        const r = await client(sb, root, "front", fetchByName(name));
        assertEquals(r.stdout, BODY, `${name}: ${r.stderr}`);
      }
      const host = await fetch(`http://127.0.0.1:${port}/`);
      assertEquals(await host.text(), BODY);

      // Another network: no name, and no way to the address either.
      const ins = JSON.parse(ok(await ptd(sb, ["inspect", "web"])))[0];
      const ip = ins.NetworkSettings.Networks.front.IPAddress;
      assertMatch(ip, /^10\.89\.\d+\.\d+$/);
      // This host answers any TCP connection to an address it does not
      // know: the page itself must not come.
      const get =
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc -w 2 ${ip} 80`;
      const same = await client(sb, root, "front", get);
      assert(same.stdout.includes(BODY), same.stdout);
      const other = await client(sb, root, "back", `nslookup web; ${get}`);
      assert(!other.stdout.includes(BODY), other.stdout);
      assert(!other.stdout.includes(ip), other.stdout);

      // A running client sees the connect and the disconnect at once.
      await detached(sb, root, "cli", "back", ["sleep", "60"]);
      ok(
        await ptd(sb, ["network", "connect", "--alias", "api", "back", "web"]),
      );
      for (const name of ["web", "api"]) {
        const r = await ptd(sb, ["exec", "cli", "sh", "-c", fetchByName(name)]);
        assertEquals(r.stdout, BODY, `${name} after connect: ${r.stderr}`);
      }
      ok(await ptd(sb, ["network", "disconnect", "back", "web"]));
      const gone = await ptd(sb, [
        "exec",
        "cli",
        "sh",
        "-c",
        fetchByName("web"),
      ]);
      assert(gone.code !== 0, gone.stdout);
      const events = ok(
        await ptd(sb, [
          "events",
          "--stream=false",
          "--filter",
          "type=network",
          "--format",
          "{{.Status}} {{.Name}} {{.Network}}",
        ]),
      );
      assertEquals(events, "connect web back\ndisconnect web back");

      // In use: refused without -f (exit 2), -f removes its containers.
      const rm = await ptd(sb, ["network", "rm", "front"]);
      assertEquals(rm.code, 2, rm.stderr);
      assertMatch(rm.stderr, /network is being used/);
      ok(await ptd(sb, ["network", "rm", "-f", "front"]));
      assertEquals((await ptd(sb, ["container", "exists", "web"])).code, 1);
    }),
});

Deno.test({
  name: "networks: an --internal network reaches nothing outside, DNS included",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "--internal", "inner"]));
      const doc = ok(await ptd(sb, ["inspect", "--type", "network", "inner"]));
      assertEquals(JSON.parse(doc)[0].internal, true);
      ok(await ptd(sb, ["network", "create", "outer"]));
      const script =
        "ip route | grep -c default; nslookup example.org | grep -c '^Address: '; true";
      const inner = await client(sb, root, "inner", script);
      assertEquals(inner.stdout, "0\n0\n", inner.stderr);
      // The same check passes its first half on a network with a way out.
      const outer = await client(
        sb,
        root,
        "outer",
        "ip route | grep -c default",
      );
      assertEquals(outer.stdout, "1\n", outer.stderr);
    }),
});

Deno.test({
  name:
    "networks: kill -9 of the holder, its parent or a container's monitor leaves nothing the next command does not clean up",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "n"]));
      const run = (name: string) => detached(sb, root, name, "n", HTTPD);
      const roles = async () => {
        const out: Record<string, number> = {};
        for (const pid of await leftovers(sb)) {
          const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
          for (const r of ["network-holder", "network-daemon"]) {
            if (cmd.split("\0").includes(r)) out[r] = pid;
          }
        }
        const mon = await ptd(sb, [
          "inspect",
          "-f",
          "{{.State.ConmonPid}}",
          "a",
        ]);
        out.monitor = Number(mon.stdout.trim());
        return out;
      };
      for (const victim of ["network-holder", "network-daemon", "monitor"]) {
        await run("a");
        const before = await roles();
        assert(before[victim] > 0, JSON.stringify(before));
        Deno.kill(before[victim], "SIGKILL");
        // With the holder gone, nothing of the network outlives it; with
        // the monitor, its container leaves the DNS at once.
        await until(() => Promise.resolve(!alive(before[victim])));
        ok(await ptd(sb, ["rm", "-f", "a"]));
        await until(async () => (await leftovers(sb)).length === 0);
        // And the next container gets a working network again.
        await run("b");
        const r = await client(sb, root, "n", fetchByName("b"));
        assertEquals(r.stdout, BODY, `after killing ${victim}: ${r.stderr}`);
        const stale = await client(sb, root, "n", "nslookup a");
        assert(!/^Address: /m.test(stale.stdout), stale.stdout);
        ok(await ptd(sb, ["rm", "-f", "b"]));
      }
      // While the holder lives on for others, a container whose monitor
      // was killed leaves the DNS at once.
      await run("b");
      await run("a");
      Deno.kill((await roles()).monitor, "SIGKILL");
      await until(async () => {
        const r = await client(sb, root, "n", "nslookup a; nslookup b");
        const found = r.stdout.match(/^Address: .*/mg) ?? [];
        return found.length === 1;
      });
    }),
});

Deno.test({
  name:
    "networks: --ipv6 gives containers IPv6 addresses that reach each other, and the DNS answers AAAA",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "--ipv6", "six"]));
      const doc = JSON.parse(ok(await ptd(sb, ["network", "inspect", "six"])));
      const v6 = doc[0].subnets[1].subnet;
      assertMatch(v6, /^fd[0-9a-f:]+\/64$/);
      await detached(sb, root, "web", "six", HTTPD);
      const ins = JSON.parse(ok(await ptd(sb, ["inspect", "web"])))[0];
      const ip6 = ins.NetworkSettings.Networks.six.GlobalIPv6Address;
      assert(ip6.startsWith(v6.replace("::/64", ":")), ip6);
      const r = await client(
        sb,
        root,
        "six",
        "ip=$(nslookup -type=AAAA web | grep '^Address: ' | tail -n1 | cut -d' ' -f2) && " +
          'echo "$ip" && wget -qO- "http://[$ip]/"',
      );
      assertEquals(r.stdout, `${ip6}\n${BODY}`, r.stderr);
      // --ip6 fixes the IPv6 address, as --ip the IPv4 one.
      const fixed = v6.replace("::/64", "::99");
      const own = await ptd(sb, [
        "run",
        "--rm",
        "--network",
        "six",
        "--ip",
        "10.89.0.99",
        "--ip6",
        fixed,
        "--rootfs",
        root,
        "ip",
        "addr",
        "show",
        "eth0",
      ]);
      assertMatch(own.stdout, new RegExp(`inet6 ${fixed}/64 `));
      assertMatch(own.stdout, /inet 10\.89\.0\.99\/24 /);
    }),
});

Deno.test({
  name:
    "networks: network reload wires containers again after their holder or pasta was killed",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "n"]));
      const port = freePort();
      const web = await detached(sb, root, "web", "n", HTTPD, [
        "-p",
        `127.0.0.1:${port}:80`,
      ]);
      const cli = await detached(sb, root, "cli", "n", ["sleep", "120"]);
      const byName = () =>
        ptd(sb, ["exec", "cli", "sh", "-c", fetchByName("web")]);
      const published = () =>
        fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => "");
      assertEquals((await byName()).stdout, BODY);
      // The holder goes, and the bridge, the veths and the names with it.
      const holder = (await leftovers(sb)).find((pid) =>
        Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(
          "network-holder",
        )
      )!;
      Deno.kill(holder, "SIGKILL");
      await until(() => Promise.resolve(!alive(holder)));
      assert((await byName()).code !== 0);
      // A container started meanwhile gets a new holder, in the user
      // namespace of those left running, so that reload can wire them.
      const lateId = await detached(sb, root, "late", "n", ["sleep", "120"]);
      assertEquals(
        ok(await ptd(sb, ["network", "reload", "web", "cli"])),
        `${web}\n${cli}`,
      );
      assertEquals((await byName()).stdout, BODY);
      const late = await ptd(sb, [
        "exec",
        "late",
        "sh",
        "-c",
        fetchByName("web"),
      ]);
      assertEquals(late.stdout, BODY, late.stderr);
      // A container's pasta goes: its published port with it.
      const pasta = Number(
        Deno.readTextFileSync(`${sb.dir}/run/containers/${web}/pasta.pid`),
      );
      Deno.kill(pasta, "SIGKILL");
      await until(async () => (await published()) === "");
      assertEquals(
        ok(await ptd(sb, ["network", "reload", "--all"])),
        `${web}\n${cli}\n${lateId}`,
      );
      assertEquals(await published(), BODY);
      assertEquals((await byName()).stdout, BODY);
    }),
});

Deno.test({
  name:
    "networks: a port taken since create fails the start in one line; init, waiting for the network, goes too",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      ok(await ptd(sb, ["network", "create", "n"]));
      const port = freePort();
      ok(
        await ptd(sb, [
          "create",
          "--name",
          "web",
          "--network",
          "n",
          "-p",
          `127.0.0.1:${port}:80`,
          "--rootfs",
          root,
          ...HTTPD,
        ]),
      );
      const taken = Deno.listen({ hostname: "127.0.0.1", port });
      try {
        const r = await ptd(sb, ["start", "web"]);
        assertEquals(r.code, 125, r.stderr);
        assertEquals(
          r.stderr,
          `Error: cannot publish 127.0.0.1:${port}/tcp: address already in use\n`,
        );
      } finally {
        taken.close();
      }
      // Nothing of it runs (withRoot checks the rest once it is removed).
      const ps = ok(await ptd(sb, ["ps", "-a", "--format", "{{.Status}}"]));
      assertMatch(ps, /^Exited \(125\)/);
      ok(await ptd(sb, ["start", "web"]));
      assertEquals(
        await (await fetch(`http://127.0.0.1:${port}/`)).text(),
        BODY,
      );
    }),
});

Deno.test({
  name:
    "networks: podman-compose --podman-path ptd brings up web + client by name, and takes them down",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const tar = await new Deno.Command("tar", {
        args: ["-C", root, "-cf", `${sb.dir}/root.tar`, "."],
      }).output();
      assert(tar.success);
      ok(await ptd(sb, ["import", `${sb.dir}/root.tar`, "localhost/bb"]));
      const dir = `${sb.dir}/app`;
      Deno.mkdirSync(dir);
      Deno.writeTextFileSync(
        `${dir}/docker-compose.yml`,
        [
          "services:",
          "  web:",
          "    image: localhost/bb",
          "    command: httpd -f -p 80 -h /www",
          "  client:",
          "    image: localhost/bb",
          "    command: sleep 60",
          "",
        ].join("\n"),
      );
      const compose = (...args: string[]) =>
        new Deno.Command("podman-compose", {
          args: ["--podman-path", `${REPO}/bin/ptd`, ...args],
          cwd: dir,
          env: sb.env,
          stdout: "piped",
          stderr: "piped",
        }).output();
      const up = await compose("up", "-d");
      const text = new TextDecoder().decode(up.stdout);
      assert(up.success, text + new TextDecoder().decode(up.stderr));
      assert(!/exit code: [1-9]/.test(text), text);
      const r = await ptd(sb, [
        "exec",
        "app_client_1",
        "sh",
        "-c",
        fetchByName("web"),
      ]);
      assertEquals(r.stdout, BODY, r.stderr);
      const down = await compose("down");
      assert(down.success, new TextDecoder().decode(down.stderr));
      assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
      await until(async () => (await leftovers(sb)).length === 0);
      ok(await ptd(sb, ["network", "rm", "app_default"]));
    }),
});

Deno.test({
  name:
    "pods: two containers talk over localhost, the pod publishes a port, pod rm -fa leaves nothing",
  ignore: !ROOTLESS,
  fn: () =>
    withRoot(async (sb, root) => {
      const port = freePort();
      ok(
        await ptd(sb, [
          "pod",
          "create",
          "--name",
          "p",
          "-p",
          `127.0.0.1:${port}:80`,
        ]),
      );
      ok(
        await ptd(sb, [
          "run",
          "-d",
          "--pod",
          "p",
          "--name",
          "web",
          "--rootfs",
          root,
          ...HTTPD,
        ]),
      );
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--pod",
        "p",
        "--rootfs",
        root,
        "sh",
        "-c",
        "hostname; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 80",
      ]);
      assert(r.stdout.startsWith("p\n"), r.stdout + r.stderr);
      assert(r.stdout.endsWith(BODY), r.stdout);
      assertEquals(
        await (await fetch(`http://127.0.0.1:${port}/`)).text(),
        BODY,
      );
      const ps = ok(
        await ptd(sb, [
          "pod",
          "ps",
          "--format",
          "{{.Name}} {{.Status}} {{.NumberOfContainers}}",
        ]),
      );
      assertEquals(ps, "p Running 2");
      const pod = ok(await ptd(sb, ["inspect", "--type", "pod", "p"]));
      assertEquals(JSON.parse(pod)[0].NumContainers, 2);
      // Running: refused without -f (125, as Podman).
      assertEquals((await ptd(sb, ["pod", "rm", "p"])).code, 125);
      ok(await ptd(sb, ["pod", "rm", "-fa"]));
      assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
      assertEquals((await ptd(sb, ["pod", "exists", "p"])).code, 1);
      await until(async () => (await leftovers(sb)).length === 0);
    }),
});
