/**
 * Every class of bad input gets exit code 1, a message naming the file, the field path and
 * what was expected, and writes nothing. Usage errors exit 2. Table-driven over mutations of
 * a valid profile, in both TOML and YAML.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import toml from '@iarna/toml';
import YAML from 'yaml';
import { cli } from './helpers/cli.js';
import { testDir } from './helpers/tools.js';

/** A valid profile as data; each case mutates a deep copy. */
const BASE = {
  name: 'lab',
  vip: { addresses: ['198.18.0.100'], port: 7443, interface: 'eth0', routerId: 77 },
  keepalived: { authPass: 'secret1', advertInterval: 1 },
  kubernetes: { version: 'v1.31.2', apiServerPort: 6443 },
  nodes: [
    { name: 'cp-1', address: '198.18.0.11/24' },
    { name: 'cp-2', address: '198.18.0.12/24' },
    { name: 'cp-3', address: '198.18.0.13/24' },
  ],
};
type Profile = typeof BASE & Record<string, unknown>;

interface Case {
  name: string;
  mutate: (p: Profile) => void;
  /** Expected in stderr: the field path and the gist of the message. */
  expect: RegExp[];
  env?: Record<string, string>;
}

const CASES: Case[] = [
  { name: 'unknown key with did-you-mean', mutate: (p) => ((p.nodes[0] as Record<string, unknown>).adress = '198.18.0.50'), expect: [/E012 at nodes\[0\]\.adress: unknown key "adress"/, /did you mean "address"\?/] },
  { name: 'unknown top-level table', mutate: (p) => (p.keepalive = { authPass: 'x' }), expect: [/at keepalive: unknown key "keepalive"/, /did you mean "keepalived"\?/] },
  { name: 'duplicate node names', mutate: (p) => (p.nodes[2]!.name = 'cp-1'), expect: [/E020 at nodes\[2\]\.name: duplicate node name "cp-1"/] },
  { name: 'duplicate node addresses', mutate: (p) => (p.nodes[1]!.address = '198.18.0.11/24'), expect: [/at nodes\[1\]\.address: duplicate node address 198\.18\.0\.11/] },
  { name: 'two nodes with one MAC', mutate: (p) => Object.assign(p.nodes[0]!, { mac: '52:54:00:00:00:01' }) && Object.assign(p.nodes[2]!, { mac: '52-54-00-00-00-01' }), expect: [/E020 at nodes\[2\]\.mac: MAC 52:54:00:00:00:01 is also the MAC of nodes\.0/] },
  { name: 'VIP equal to a node address', mutate: (p) => (p.vip.addresses = ['198.18.0.12']), expect: [/E022 at nodes\[1\]\.address: node address 198\.18\.0\.12 is also vip\.addresses\[0\]/] },
  { name: 'mixed address families', mutate: (p) => (p.nodes[1]!.address = '2001:db8::12/64'), expect: [/E021 at nodes\[1\]\.address: "2001:db8::12\/64" is IPv6 but the profile.s other addresses are IPv4/] },
  { name: 'VIP outside the nodes\' subnet', mutate: (p) => (p.vip.addresses = ['198.19.5.5']), expect: [/E023 at vip\.addresses\[0\]: VIP 198\.19\.5\.5 is outside node cp-1's subnet 198\.18\.0\.11\/24/] },
  { name: 'routerId 0', mutate: (p) => (p.vip.routerId = 0), expect: [/E013 at vip\.routerId: expected an integer from 1 to 255, got 0/] },
  { name: 'routerId 256', mutate: (p) => (p.vip.routerId = 256), expect: [/at vip\.routerId: expected an integer from 1 to 255, got 256/] },
  { name: 'vip.port equal to apiServerPort', mutate: (p) => (p.vip.port = 6443), expect: [/E024 at vip\.port: vip\.port and kubernetes\.apiServerPort are both 6443/, /Port-6443/] },
  { name: 'vip.port outside 1-65535', mutate: (p) => (p.vip.port = 70000), expect: [/at vip\.port: expected an integer from 1 to 65535, got 70000/] },
  { name: 'vip.port not a number', mutate: (p) => ((p.vip as Record<string, unknown>).port = '7443'), expect: [/E010 at vip\.port: expected a number, got "7443"/] },
  { name: 'authPass longer than 8', mutate: (p) => (p.keepalived.authPass = 'password9'), expect: [/at keepalived\.authPass: expected 1-8 characters/, /VRRP_AUTH_LEN/] },
  { name: 'authPass from the environment longer than 8', mutate: () => {}, env: { K8S_HA_AUTH_PASS: 'toolongpassword' }, expect: [/E025 at keepalived\.authPass: K8S_HA_AUTH_PASS must be 1-8 characters/] },
  { name: 'interface longer than 15 characters', mutate: (p) => (p.vip.interface = 'enp0s31f6verylong'), expect: [/E014 at vip\.interface: expected a Linux interface name/] },
  { name: 'interface with white space', mutate: (p) => (p.vip.interface = 'eth 0'), expect: [/at vip\.interface: expected a Linux interface name/] },
  { name: 'interface with a slash', mutate: (p) => ((p.nodes[0] as Record<string, unknown>).interface = 'eth0/1'), expect: [/at nodes\[0\]\.interface: expected a Linux interface name/] },
  { name: 'node name not DNS-1123', mutate: (p) => (p.nodes[0]!.name = 'CP_1'), expect: [/at nodes\[0\]\.name: expected a DNS-1123 label/] },
  { name: 'newline injected into the interface', mutate: (p) => (p.vip.interface = 'eth0\n}\nvrrp_script x {'), expect: [/E015 at vip\.interface: expected a Linux interface name/] },
  { name: 'quote and brace injected into the image', mutate: (p) => ((p as Record<string, unknown>).haproxy = { image: 'haproxy:2.8" }' }), expect: [/E015 at haproxy\.image: expected a container image reference/] },
  { name: 'command substitution in the cluster name', mutate: (p) => (p.name = '$(reboot)'), expect: [/E015 at name: expected a DNS-1123 label/] },
  { name: 'newline in authPass (value not shown)', mutate: (p) => (p.keepalived.authPass = 'a\nb'), expect: [/at keepalived\.authPass: expected 1-8 characters.*got <redacted>/] },
  { name: 'missing required table', mutate: (p) => delete (p as Partial<Profile>).kubernetes, expect: [/E011 at kubernetes: missing required object/] },
  { name: 'empty node list', mutate: (p) => (p.nodes = []), expect: [/E013 at nodes: expected at least 1 entry/] },
  { name: 'equal priorities', mutate: (p) => Object.assign(p.nodes[1]!, { priority: 100 }, { }) && Object.assign(p.nodes[2]!, { priority: 100 }), expect: [/E026 at nodes\[2\]\.priority: priority 100 of cp-3 equals that of cp-2/] },
  { name: 'a BACKUP above the MASTER', mutate: (p) => Object.assign(p.nodes[1]!, { priority: 200 }), expect: [/E026 at nodes\[1\]\.priority: priority 200 is not below the MASTER's/] },
  { name: 'iPXE expansion in boot.assetsUrl (caught on load, not only by bundle)', mutate: (p) => (p.boot = { os: 'flatcar', assetsUrl: 'http://198.18.0.1/${net0/ip}', configUrl: 'http://198.18.0.1/k8s' }), expect: [/at boot\.assetsUrl: expected an absolute http:\/\/ or https:\/\/ URL without spaces/] },
  { name: 'two words in one boot.kernelArgs item', mutate: (p) => (p.boot = { os: 'fcos', assetsUrl: 'http://198.18.0.1/a', configUrl: 'http://198.18.0.1/k8s', kernelArgs: ['console=ttyS0', 'quiet init=/bin/sh'] }), expect: [/at boot\.kernelArgs\[1\]: expected one token per list item/] },
  { name: 'worker gateway outside its subnet (named as workers[0], on load)', mutate: (p) => (p.workers = [{ name: 'w-1', address: '198.18.0.21/24', gateway: '198.18.9.1' }]), expect: [/E031 at workers\[0\]\.gateway: 198\.18\.9\.1 is not inside 198\.18\.0\.21\/24/] },
  { name: 'static DNS on a node address without prefix', mutate: (p) => Object.assign(p.nodes[1]!, { address: '198.18.0.12', dns: ['198.18.0.53'] }), expect: [/E031 at nodes\[1\]\.address: 198\.18\.0\.12 has no prefix length, which static network settings/] },
  { name: 'U+2028 in a hook (PyYAML would refuse the whole user-data)', mutate: (p) => Object.assign(p.kubernetes, { preKubeadmCommands: ['echo a\u2028reboot'] }), expect: [/at kubernetes\.preKubeadmCommands\[0\]: expected one line of shell/] },
  { name: 'an integer beyond 2^53 (TOML BigInt) is a range error at its field', mutate: (p) => (p.vip.port = 9007199254740993 as number), expect: [/at vip\.port: expected an integer from 1 to 65535/] },
  { name: 'VRRPv3 interval off the 10 ms grid', mutate: (p) => (p.keepalived.advertInterval = 0.125), expect: [/E028 at keepalived\.advertInterval: VRRP version 3 takes advert_int in steps of 0\.01 s/] },
];

/** Several problems in one profile are all reported at once. */
test('every problem is reported at once', (t) => {
  const dir = testDir(t);
  const p = structuredClone(BASE) as Profile;
  p.vip.routerId = 300;
  p.nodes[0]!.name = 'Bad_Name';
  p.vip.interface = 'x'.repeat(20);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, YAML.stringify(p));
  const r = cli(['render', file, '--out', join(dir, 'out')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /vip\.routerId/);
  t.regex(r.stderr, /nodes\[0\]\.name/);
  t.regex(r.stderr, /vip\.interface/);
  t.regex(r.stderr, /3 errors/);
});

for (const c of CASES) {
  for (const ext of ['toml', 'yaml'] as const) {
    test(`bad input (${ext}): ${c.name} -> exit 1, path and message, nothing written`, (t) => {
      const dir = testDir(t);
      const p = structuredClone(BASE) as Profile;
      c.mutate(p);
      const file = join(dir, `profile.${ext}`);
      writeFileSync(file, ext === 'toml' ? toml.stringify(p as unknown as toml.JsonMap) : YAML.stringify(p));
      const out = join(dir, 'out');
      const r = cli(['render', file, '--out', out], c.env ? { env: c.env } : {});
      t.is(r.code, 1, r.stderr);
      t.true(r.stderr.includes(file), 'names the file');
      for (const re of c.expect) t.regex(r.stderr, re);
      t.regex(r.stderr, /hint: |did you mean/, 'gives a hint');
      t.notRegex(r.stderr, /\n\s+at |internal error/, 'no stack trace');
      t.false(existsSync(out), 'nothing written');
      if (c.name.includes('authPass')) {
        t.notRegex(r.stderr, /password9|toolongpassword|a\\nb/, 'the secret is not echoed');
        t.false(r.stderr.includes('a\nb'), 'the secret is not echoed raw either');
      }
    });
  }
}

// Syntax errors: file:line:col of the first bad token, from each parser.
const SYNTAX: [string, string, string][] = [
  ['broken.toml', 'name = "x"\n[vip]\naddresses = ["198.18.0.100"\nport = 7443\n', ':4:\\d+: error E003 at \\(profile\\): TOML syntax error'],
  ['broken.yaml', 'name: x\nvip:\n  addresses: [198.18.0.100\n  port: 7443\nnodes: {\n', ':4:3: error E003 at \\(profile\\): YAML syntax error'],
];
for (const [name, text, expected] of SYNTAX) {
  test(`${name.endsWith('.toml') ? 'TOML' : 'YAML'} syntax error: file:line:col`, (t) => {
    const file = join(testDir(t), name);
    writeFileSync(file, text);
    const r = cli(['check', file]);
    t.is(r.code, 1);
    t.regex(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}${expected}`));
  });
}

test('missing profile file and unknown extension exit 1 with a hint', (t) => {
  const a = cli(['render', 'no/such/profile.toml']);
  t.is(a.code, 1);
  t.regex(a.stderr, /no\/such\/profile\.toml: error E001 at \(profile\): cannot read the profile: no such file/);
  const dir = testDir(t);
  const file = join(dir, 'profile.json');
  writeFileSync(file, '{}');
  const b = cli(['check', file]);
  t.is(b.code, 1);
  t.regex(b.stderr, /unknown profile format "\.json"[\s\S]*hint: name the file \*\.toml, \*\.yaml or \*\.yml/);
});

test('usage errors exit 2', (t) => {
  for (const args of [['render', '--format', 'xml'], ['render', '--bogus'], [], ['render', '--stdout', '--format', 'all'], ['render', '--node', 'nope'], ['render', '--stdout', '--format', 'ignition']]) {
    const r = cli(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.notRegex(r.stderr, /\n\s+at |internal error/);
  }
});
