/**
 * Issue 2's "done when", run rootless as a new user would: real namespaces,
 * real maps, the CLI from source.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../assert.ts";
import { busyboxRoot, ptd, REPO, ROOTLESS, withSandbox } from "../helpers.ts";

function subStart(file: string): number {
  const name = Deno.env.get("USER") ?? Deno.env.get("LOGNAME");
  const uid = String(Deno.uid());
  for (const line of Deno.readTextFileSync(file).split("\n")) {
    const [who, start] = line.split(":");
    if (who === name || who === uid) return Number(start);
  }
  throw new Error(`no range in ${file}`);
}

Deno.test({
  name: "run --rootfs /: uid 0, PID 1, subuid map, own hostname, only its PIDs",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--hostname",
        "box1",
        "--rootfs",
        "/",
        "sh",
        "-c",
        "id -u; echo $$; cat /proc/self/uid_map; hostname; ls /proc | grep -E '^[0-9]+$' | wc -l",
      ]);
      assertEquals(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n").map((l) => l.trim());
      assertEquals(lines[0], "0");
      assertEquals(lines[1], "1");
      assertMatch(lines[2], new RegExp(`^0\\s+${Deno.uid()}\\s+1$`));
      assertMatch(
        lines[3],
        new RegExp(`^1\\s+${subStart("/etc/subuid")}\\s+\\d+$`),
      );
      assertEquals(lines[4], "box1");
      // sh, ls, grep, wc (the fuse-overlayfs daemon lives outside): a handful, not the host's
      assert(Number(lines[5]) < 10, `saw ${lines[5]} pids`);
    }),
});

Deno.test({
  name: "run --rootfs /: writes land in the upper dir, never on the host",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const marker = `ptd-marker-${crypto.randomUUID().slice(0, 8)}`;
      const r = await ptd(sb, [
        "run",
        "--rootfs",
        "/",
        "sh",
        "-c",
        `echo hi > /${marker} && cat /${marker}`,
      ]);
      assertEquals(r.stdout, "hi\n", r.stderr);
      assertEquals(r.code, 0);
      let onHost = true;
      try {
        Deno.lstatSync(`/${marker}`);
      } catch {
        onHost = false;
      }
      assertEquals(onHost, false);
      const [id] = [...Deno.readDirSync(`${sb.env.PTD_ROOT}/containers`)]
        .filter((e) => e.isDirectory);
      assertEquals(
        Deno.readTextFileSync(
          `${sb.env.PTD_ROOT}/containers/${id.name}/upper/${marker}`,
        ),
        "hi\n",
      );
    }),
});

Deno.test({
  name:
    "run on a rootfs of our own (native overlay): chown 1000 shows as the mapped subuid",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const r = await ptd(sb, [
        "run",
        "--rootfs",
        root,
        "sh",
        "-c",
        "touch /owned && chown 1000:1000 /owned && stat -c %u /owned",
      ]);
      assertEquals(r.stdout, "1000\n", r.stderr);
      const [id] = [...Deno.readDirSync(`${sb.env.PTD_ROOT}/containers`)]
        .filter((e) => e.isDirectory);
      const st = Deno.lstatSync(
        `${sb.env.PTD_ROOT}/containers/${id.name}/upper/owned`,
      );
      assertEquals(st.uid, subStart("/etc/subuid") + 999);
      assertEquals(st.gid, subStart("/etc/subgid") + 999);
      assertEquals(Deno.lstatSync(`${root}/bin/busybox`).isFile, true);
      assertEquals([...Deno.readDirSync(root)].map((e) => e.name).sort(), [
        "bin",
        "etc",
        "tmp",
      ]);
    }),
});

Deno.test({
  name:
    "run: exit codes pass through; 127 missing, 126 not executable, 125 bad flag",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const cases: [string[], number, RegExp | null][] = [
        [["run", "--rm", "--rootfs", root, "sh", "-c", "exit 3"], 3, null],
        [
          ["run", "--rm", "--rootfs", root, "nosuchcmd"],
          127,
          /^Error: nosuchcmd: executable file not found in \$PATH\n$/,
        ],
        [
          ["run", "--rm", "--rootfs", root, "/etc/passwd"],
          126,
          /^Error: \/etc\/passwd: permission denied\n$/,
        ],
        [
          ["run", "--bogus", "--rootfs", root, "true"],
          125,
          /^Error: unknown flag: --bogus\nSee 'ptd run --help'\n$/,
        ],
        [
          ["run", "--rm", "--rootfs", "/no/such/dir", "true"],
          125,
          /^Error: --rootfs \/no\/such\/dir: no such file or directory\n$/,
        ],
        [
          ["run", "--rm", "--cap-add", "FLY", "--rootfs", root, "true"],
          125,
          /^Error: unknown capability "FLY"\n$/,
        ],
        [
          [
            "run",
            "--rm",
            "--rootfs",
            root,
            "sh",
            "-c",
            "kill -TERM $$; sleep 1",
          ],
          0,
          null,
        ],
      ];
      for (const [args, code, err] of cases) {
        const r = await ptd(sb, args);
        assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        if (err) assertMatch(r.stderr, err);
      }
      // --rm left nothing behind, and failed runs left no container dirs either
      const left = [...Deno.readDirSync(`${sb.env.PTD_ROOT}/containers`)]
        .filter((e) => e.isDirectory);
      assertEquals(left.length, 0);
    }),
});

Deno.test({
  name:
    "run: stdin only with -i, stdout and stderr kept apart, env/workdir/user",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const noStdin = await ptd(sb, ["run", "--rm", "--rootfs", root, "cat"], {
        stdin: "ignored\n",
      });
      assertEquals(noStdin.stdout, "");
      const withStdin = await ptd(sb, [
        "run",
        "--rm",
        "-i",
        "--rootfs",
        root,
        "cat",
      ], { stdin: "hello\n" });
      assertEquals(withStdin.stdout, "hello\n");
      const split = await ptd(sb, [
        "run",
        "--rm",
        "--rootfs",
        root,
        "sh",
        "-c",
        "echo out; echo err >&2",
      ]);
      assertEquals([split.stdout, split.stderr], ["out\n", "err\n"]);
      const env = await ptd(sb, [
        "run",
        "--rm",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp/wd",
        "-u",
        "1000:1000",
        "--rootfs",
        root,
        "sh",
        "-c",
        "echo $FOO; pwd; id -u; id -g; echo $HOME",
      ]);
      // Podman's passwd entry for a numeric user has the workdir as home.
      assertEquals(
        env.stdout,
        "bar\n/tmp/wd\n1000\n1000\n/tmp/wd\n",
        env.stderr,
      );
    }),
});

Deno.test({
  name:
    "run: capabilities, no-new-privileges, masked and read-only /proc, devices",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const capEff = async (...flags: string[]) => {
        const r = await ptd(sb, [
          "run",
          "--rm",
          ...flags,
          "--rootfs",
          root,
          "sh",
          "-c",
          "grep -E 'CapEff|NoNewPrivs' /proc/self/status",
        ]);
        assertEquals(r.code, 0, r.stderr);
        return r.stdout;
      };
      assertStringIncludes(await capEff(), "CapEff:\t00000000a80425fb");
      assertStringIncludes(
        await capEff("--cap-drop", "ALL"),
        "CapEff:\t0000000000000000",
      );
      assertStringIncludes(
        await capEff("--privileged"),
        "CapEff:\t000001ffffffffff",
      );
      assertStringIncludes(
        await capEff("--security-opt", "no-new-privileges"),
        "NoNewPrivs:\t1",
      );
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--rootfs",
        root,
        "sh",
        "-c",
        "cat /proc/kcore | wc -c; echo x > /proc/sys/kernel/hostname || echo ro; ls /dev; echo hi > /dev/null && echo null-ok",
      ]);
      assertEquals(r.code, 0, r.stderr);
      const out = r.stdout.split("\n").map((l) => l.trim());
      assertEquals(out[0], "0");
      assertEquals(out[1], "ro");
      for (
        const d of [
          "null",
          "zero",
          "full",
          "random",
          "urandom",
          "tty",
          "pts",
          "shm",
          "mqueue",
          "ptmx",
          "fd",
        ]
      ) {
        assert(out.includes(d), `missing /dev/${d} in ${out}`);
      }
      assert(out.includes("null-ok"));
      const ro = await ptd(sb, [
        "run",
        "--rm",
        "--read-only",
        "--rootfs",
        root,
        "touch",
        "/x",
      ]);
      assertEquals(ro.code, 1);
      assertStringIncludes(ro.stderr, "Read-only file system");
    }),
});

Deno.test({
  name:
    "run --network none: /etc/hostname (no newline, as Podman), /etc/hosts, no resolv.conf, loopback up in its own network namespace",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--name",
        "web1",
        "--hostname",
        "h1",
        "--network",
        "none",
        "--rootfs",
        root,
        "sh",
        "-c",
        "cat /etc/hostname; echo; grep -c 'h1 web1' /etc/hosts; test -f /etc/resolv.conf || echo noresolv; ip -o link | grep -c ': lo:.*UP'; ip -o link | wc -l",
      ]);
      assertEquals(
        r.stdout.split("\n").map((l) => l.trim()).join(" "),
        "h1 1 noresolv 1 1 ",
        r.stderr,
      );
    }),
});

Deno.test({
  name:
    "run --rootfs / (fuse-overlayfs): a nested-chroot escape stays inside the container",
  ignore: !ROOTLESS || !Deno.statSync("/usr/bin/python3").isFile,
  fn: () =>
    withSandbox(async (sb) => {
      const marker = `ptd-escape-${crypto.randomUUID().slice(0, 8)}`;
      const script = `${sb.dir}/escape.py`;
      // The classic escape: chroot into a subdir while the cwd stays outside,
      // climb with "..", and chroot there. CAP_SYS_CHROOT is a default cap.
      Deno.writeTextFileSync(
        script,
        [
          "import os",
          'os.makedirs("/esc", exist_ok=True)',
          'fd = os.open("/", os.O_RDONLY)',
          'os.chroot("/esc")',
          "os.fchdir(fd)",
          'for _ in range(64): os.chdir("..")',
          'os.chroot(".")',
          `open("/tmp/${marker}", "w").write("x")`,
        ].join("\n"),
      );
      Deno.chmodSync(sb.dir, 0o755);
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--rootfs",
        "/",
        "python3",
        script,
      ]);
      assertEquals(r.code, 0, r.stderr);
      let escaped = true;
      try {
        Deno.lstatSync(`/tmp/${marker}`);
        Deno.removeSync(`/tmp/${marker}`);
      } catch {
        escaped = false;
      }
      assertEquals(escaped, false);
    }),
});

Deno.test({
  name:
    "run --init: catatonit is PID 1, exit codes pass, SIGTERM reaches the command",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, ["sleep", "tr"]);
      const r = await ptd(sb, [
        "run",
        "--rm",
        "--init",
        "--rootfs",
        root,
        "sh",
        "-c",
        "tr '\\0' ' ' < /proc/1/cmdline; echo; [ $$ != 1 ] && echo not-pid-1; exit 7",
      ]);
      assertEquals(r.code, 7, r.stderr);
      assertStringIncludes(r.stdout, "/run/ptd-init -- sh -c");
      assertStringIncludes(r.stdout, "not-pid-1");
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          `${REPO}/main.ts`,
          "run",
          "--rm",
          "--init",
          "--rootfs",
          root,
          "sleep",
          "30",
        ],
        env: sb.env,
        stdout: "null",
        stderr: "null",
      }).spawn();
      await new Promise((ok) => setTimeout(ok, 2000));
      child.kill("SIGTERM");
      const st = await child.status;
      assertEquals(st.code, 143);
    }),
});
