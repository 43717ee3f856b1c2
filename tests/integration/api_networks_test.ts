/**
 * Networks through `ptd system service`, rootless, with the real clients:
 * Docker's CLI (28.x) creates, lists, inspects, connects and removes
 * networks and runs containers on them; Debian's docker-compose (1.29)
 * brings a project up on its default network, where one service reaches
 * the other by its service name, and `down -v` leaves nothing behind.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import {
  type Api,
  composeProject,
  docker,
  dockerOk,
  has,
  http,
  NO_DOCKER,
  withApi,
} from "../api_client.ts";
import { ROOTLESS } from "../helpers.ts";

/** A shell line printing the first address NAME resolves to (busybox nslookup). */
const lookup = (name: string) =>
  `nslookup ${name} | grep '^Address: ' | head -n1 | cut -d' ' -f2`;

const inspectNetwork = async (api: Api, name: string) =>
  JSON.parse(await dockerOk(api, ["network", "inspect", name]))[0];

Deno.test({
  name:
    "api networks: docker network create/ls/inspect/connect/disconnect/rm/prune, run --network with an alias",
  ignore: NO_DOCKER || !ROOTLESS,
  fn: () =>
    withApi(async (api) => {
      const create =
        "network create --label team=a --subnet 10.99.7.0/24 appnet";
      const id = (await dockerOk(api, create.split(" "))).trim();
      assertMatch(id, /^[0-9a-f]{64}$/);
      assertEquals(
        await dockerOk(api, [
          "network",
          "ls",
          "--format",
          "{{.Name}} {{.Driver}} {{.Scope}}",
        ]),
        "appnet bridge local\npodman bridge local\n",
      );
      assertEquals(
        await dockerOk(api, "network ls -q -f label=team=a".split(" ")),
        `${id.slice(0, 12)}\n`,
      );
      assertEquals(
        await dockerOk(api, "network ls -q -f type=custom".split(" ")),
        `${id.slice(0, 12)}\n`,
      );
      const net = await inspectNetwork(api, "appnet");
      assertEquals(
        [net.Id, net.Scope, net.Driver, net.Internal, net.Labels],
        [id, "local", "bridge", false, { team: "a" }],
      );
      assertEquals(net.IPAM.Config, [{
        Subnet: "10.99.7.0/24",
        Gateway: "10.99.7.1",
      }]);
      assertEquals(net.Containers, {});

      // EndpointsConfig's aliases reach the DNS; inspect shows the endpoint.
      const web = (await dockerOk(
        api,
        "run -d --name web --network appnet --network-alias www busybox httpd -f -p 80 -h /etc"
          .split(" "),
      )).trim();
      const ctr = JSON.parse(await dockerOk(api, ["inspect", "web"]))[0];
      const ep = ctr.NetworkSettings.Networks.appnet;
      assertEquals(ep.NetworkID, id);
      assertEquals(ep.Aliases, ["www", web.slice(0, 12)]);
      assertMatch(ep.IPAddress, /^10\.99\.7\.\d+$/);
      const members = (await inspectNetwork(api, "appnet")).Containers;
      assertEquals(Object.keys(members), [web]);
      assertEquals(members[web].Name, "web");
      assertEquals(members[web].IPv4Address, `${ep.IPAddress}/24`);
      assertEquals(
        await dockerOk(api, [
          "ps",
          "--format",
          "{{.Names}} {{.Networks}}",
        ]),
        "web appnet\n",
      );
      const got = await docker(api, [
        "run",
        "--rm",
        "--network",
        "appnet",
        "busybox",
        "sh",
        "-c",
        `ip=$(${lookup("www")}) && wget -qO- http://$ip/hostname`,
      ]);
      assertEquals([got.code, got.stdout], [0, web.slice(0, 12)]);

      // In use: Docker's 403, and the network stays.
      const busy = await docker(api, ["network", "rm", "appnet"]);
      assertEquals(busy.code, 1);
      assertStringIncludes(busy.stderr, "network is being used");
      assertEquals(
        (await http(api, "DELETE", "/networks/appnet")).status,
        403,
      );
      await dockerOk(api, "network disconnect appnet web".split(" "));
      assertEquals((await inspectNetwork(api, "appnet")).Containers, {});
      await dockerOk(
        api,
        "network connect --alias again appnet web".split(" "),
      );
      const back = JSON.parse(await dockerOk(api, ["inspect", "web"]))[0];
      assertEquals(back.NetworkSettings.Networks.appnet.Aliases, [
        "again",
        web.slice(0, 12),
      ]);
      await dockerOk(api, ["rm", "-f", "web"]);
      assertEquals(
        await dockerOk(api, ["network", "rm", "appnet"]),
        "appnet\n",
      );

      const missing = await docker(api, ["network", "inspect", "appnet"]);
      assertEquals(missing.code, 1);
      assertStringIncludes(missing.stderr, "network not found");
      for (
        const [body, status] of [
          ['{"Name":"x","Driver":"overlay"}', 400],
          [
            '{"Name":"x","Options":{"com.docker.network.bridge.name":"b"}}',
            400,
          ],
          [
            '{"Name":"dup","Options":{"com.docker.network.driver.mtu":"1400"}}',
            201,
          ],
          ['{"Name":"dup"}', 409],
        ] as const
      ) {
        const r = await http(api, "POST", "/networks/create", body);
        assertEquals(r.status, status, `${body}: ${r.body}`);
      }
      assertEquals((await inspectNetwork(api, "dup")).Options, {
        "com.docker.network.driver.mtu": "1400",
      });
      await dockerOk(api, ["network", "create", "other"]);
      const pruned = await dockerOk(api, ["network", "prune", "-f"]);
      assertStringIncludes(pruned, "dup\nother\n");
      assertEquals(
        await dockerOk(api, "network ls --format {{.Name}}".split(" ")),
        "podman\n",
      );
    }),
});

Deno.test({
  name:
    "api networks: docker-compose up on the project's default network, a service reached by name; down -v leaves nothing",
  ignore: NO_DOCKER || !ROOTLESS || !has("docker-compose"),
  fn: () =>
    withApi(async (api) => {
      const compose = composeProject(
        api,
        `version: "3"
services:
  web: {image: busybox, command: httpd -f -p 80 -h /data, volumes: [data:/data]}
  probe:
    image: busybox
    command: sh -c "echo from-web > /data/index.html; exec sleep 1000"
    stop_signal: SIGKILL
    volumes: [data:/data]
volumes: {data: {}}
`,
      );
      const up = await compose(["up", "-d"]);
      assertEquals(up.code, 0, up.stderr);
      assertStringIncludes(up.stderr, 'Creating network "proj_default"');
      const net = await inspectNetwork(api, "proj_default");
      assertEquals(
        Object.values(net.Containers).map((c) => (c as { Name: string }).Name)
          .sort(),
        ["proj_probe_1", "proj_web_1"],
      );
      const got = await compose([
        "exec",
        "-T",
        "probe",
        "sh",
        "-c",
        `ip=$(${lookup("web")}) && wget -qO- http://$ip/index.html`,
      ]);
      assertEquals([got.code, got.stdout], [0, "from-web\n"], got.stderr);
      // A second up finds the network as it made it: nothing to recreate.
      const again = await compose(["up", "-d"]);
      assertEquals(again.code, 0, again.stderr);
      assert(!/Recreating|ERROR/.test(again.stderr), again.stderr);

      const down = await compose(["down", "-v"]);
      assertEquals(down.code, 0, down.stderr);
      assertStringIncludes(down.stderr, "Removing network proj_default");
      assertEquals(await dockerOk(api, ["ps", "-aq"]), "");
      assertEquals(await dockerOk(api, ["volume", "ls", "-q"]), "");
      assertEquals(
        await dockerOk(api, "network ls --format {{.Name}}".split(" ")),
        "podman\n",
      );
    }),
});
