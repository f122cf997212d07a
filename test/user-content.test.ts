/**
 * SSH access ([ssh]) and the user's own content ([userContent]) in both formats: the keys land
 * where each consumer puts them, the user's cloud-config is merged by cloud-init's own code
 * (its commands before k8s-ha's bootstrap), the user's Ignition rides in
 * ignition.config.merge, and bad input (malformed key, invalid or colliding user file) exits 1
 * naming both sources and writing nothing.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cli } from './helpers/cli.js';
import { cloudInitCheck, hasTool, ignitionCheck, testDir } from './helpers/tools.js';
import { cloudInitMerge, ECDSA, ED25519, seedProfileWith, USER_CLOUD_CONFIG, USER_IGNITION } from './helpers/user-content.js';
import { cloudConfigParts } from '../src/formats/mime.js';
import { decodeDataUrl } from '../src/formats/decode.js';
import { sshKeyProblem } from '../src/profile/ssh.js';

const render = (dir: string, profile: string, ...args: string[]) => cli(['render', profile, '--out', join(dir, 'out'), '--secrets', join(dir, 's.json'), ...args]);
const SSH = `[ssh]\nauthorizedKeys = ["${ED25519}"]\n`;
const USER = '[userContent]\ncloudConfig = "extra.yaml"\nignition = "extra.ign"\n';

test('OpenSSH key lines: real keys pass; truncated, retyped, multi-line, optioned and DSA keys do not', (t) => {
  t.is(sshKeyProblem(ED25519), undefined);
  t.is(sshKeyProblem(ECDSA), undefined);
  t.is(sshKeyProblem(ED25519.split(' ').slice(0, 2).join(' ')), undefined, 'the comment is optional');
  t.regex(sshKeyProblem(ED25519.replace('AAAAC3NzaC1lZDI1NTE5AAAAI', 'AAAAC3NzaC1lZDI1NTE5AAAA'))!, /not base64|does not hold/);
  t.regex(sshKeyProblem(ED25519.replace('ssh-ed25519', 'ssh-rsa'))!, /does not hold a ssh-rsa key/);
  t.regex(sshKeyProblem(ED25519.slice(0, 40))!, /truncated/, 'a whole type field but no key');
  t.regex(sshKeyProblem(`${ED25519}\n${ECDSA}`)!, /line break/);
  t.regex(sshKeyProblem(`from="10.0.0.1" ${ED25519}`)!, /unknown key type/);
  t.regex(sshKeyProblem('ssh-dss AAAAB3NzaC1kc3MAAACBAP')!, /unknown key type "ssh-dss"/);
  t.regex(sshKeyProblem('ssh-ed25519')!, /TYPE BASE64/);
});

test('keys for the image default user: ssh_authorized_keys in cloud-init, core in Ignition; no password anywhere', (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, `${SSH}\n[[nodes]]\nname = "k8s-cp-4"\naddress = "172.16.217.174/16"\nssh = { authorizedKeys = ["${ECDSA}"] }\n`);
  const r = render(dir, profile);
  t.is(r.code, 0, r.stderr);
  const ud = readFileSync(join(dir, 'out', 'k8s-cp-1', 'user-data'), 'utf8');
  t.true(ud.startsWith('#cloud-config\n'), 'no user content: plain #cloud-config, no multipart');
  t.true(ud.includes(`ssh_authorized_keys:\n  - ${ED25519}\nssh_pwauth: false\n`), ud.slice(0, 600));
  t.false(/passwd|password/i.test(ud.replace(/lock_passwd/g, '')), 'no password key');
  const check = cloudInitCheck(ud);
  t.true(check.ok, check.output);
  const ign = readFileSync(join(dir, 'out', 'k8s-cp-4', 'config.ign'), 'utf8');
  t.deepEqual(JSON.parse(ign).passwd, { users: [{ name: 'core', sshAuthorizedKeys: [ED25519, ECDSA] }] }, 'the cluster key, then the node\'s own');
  const v = ignitionCheck(ign);
  t.true(v.ok, v.output);
});

test('a named login user: created by cloud-init with keys, sudo and a locked password; the same user in Ignition', (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, SSH.replace('[ssh]\n', '[ssh]\nuser = "ops"\n'));
  t.is(render(dir, profile).code, 0);
  const merged = cloudInitMerge(dir, readFileSync(join(dir, 'out', 'k8s-cp-2', 'user-data'), 'utf8'));
  t.deepEqual(merged.users, ['default', { name: 'ops', lock_passwd: true, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: [ED25519] }]);
  t.is(merged.ssh_pwauth, false);
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'out', 'k8s-cp-2', 'config.ign'), 'utf8')).passwd.users, [{ name: 'ops', sshAuthorizedKeys: [ED25519] }]);
});

test("the user's cloud-config: a multipart that cloud-init's own merge turns into both, the user's commands first", (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, `${SSH}\n${USER}`);
  const r = render(dir, profile);
  t.is(r.code, 0, r.stderr);
  const ud = readFileSync(join(dir, 'out', 'k8s-cp-1', 'user-data'), 'utf8');
  const parts = cloudConfigParts(ud);
  t.is(parts.length, 2);
  t.is(parts[0], USER_CLOUD_CONFIG, "the user's file travels byte for byte");
  for (const p of parts) {
    const c = cloudInitCheck(p);
    t.true(c.ok, c.output);
  }
  const merged = cloudInitMerge(dir, ud) as { hostname: string; runcmd: string[][]; bootcmd: string[][]; write_files: { path: string }[]; ssh_authorized_keys: string[] };
  t.is(merged.hostname, 'k8s-cp-1');
  t.deepEqual(merged.runcmd.map((c) => c.at(-1)), ['echo user-runcmd >> /run/k8s-ha-user-order; logger -t k8s-ha-user user-runcmd', '/etc/k8s-ha/bootstrap.sh'], 'user runcmd, then the bootstrap');
  t.is(merged.bootcmd.length, 1);
  const paths = merged.write_files.map((f) => f.path);
  t.is(paths[0], '/etc/k8s-ha-user/hello.txt');
  t.true(paths.includes('/etc/k8s-ha/bootstrap.sh') && paths.includes('/etc/kubernetes/pki/ca.key'));
  t.deepEqual(merged.ssh_authorized_keys, [ED25519]);
  // The budget counts the merged user-data, not k8s-ha's part alone.
  const size = Buffer.byteLength(ud);
  const over = render(dir, profile, '--max-user-data', String(size - 1));
  t.is(over.code, 1);
  t.regex(over.stderr, new RegExp(`user-data of node k8s-cp-1 is ${size} bytes, over the limit of ${size - 1}`));
});

test("the user's Ignition: merged with ignition.config.merge (data URL), validated, the output passes ignition-validate", (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, `${SSH}\n${USER}`);
  t.is(render(dir, profile).code, 0);
  const ign = readFileSync(join(dir, 'out', 'k8s-cp-3', 'config.ign'), 'utf8');
  const cfg = JSON.parse(ign);
  t.is(cfg.ignition.config.merge.length, 1);
  const child = cfg.ignition.config.merge[0];
  const bytes = decodeDataUrl(child.source);
  t.is((child.compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8'), USER_IGNITION);
  const v = ignitionCheck(ign);
  t.true(v.ok, v.output);
  // A newer spec than the output's cannot be merged: exit 1, nothing written.
  const newer = seedProfileWith(dir, USER, { 'extra.yaml': USER_CLOUD_CONFIG, 'extra.ign': USER_IGNITION.replace('3.3.0', '3.4.0') });
  const out2 = join(dir, 'out2');
  const r = cli(['render', newer, '--out', out2, '--secrets', join(dir, 's.json')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /error E051 at userContent\.ignition: extra\.ign is Ignition spec 3\.4\.0, newer than the output's 3\.3\.0/);
  t.regex(r.stderr, /hint: render with --ignition-version 3\.4\.0/);
  t.false(existsSync(out2));
  const ok = cli(['render', newer, '--out', out2, '--secrets', join(dir, 's.json'), '--ignition-version', '3.4.0']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /warning W150 at userContent\.ignition: extra\.ign \(spec 3\.4\.0\) was not checked/);
});

interface BadCase {
  name: string;
  extra: string;
  files?: Record<string, string>;
  expect: RegExp[];
}

const BAD: BadCase[] = [
  {
    name: 'a malformed key',
    extra: `[ssh]\nauthorizedKeys = ["${ED25519.slice(0, 40)}"]\n`,
    expect: [/p\.toml:\d+:\d+: error E014 at ssh\.authorizedKeys\[0\]: expected one OpenSSH public-key line/],
  },
  {
    name: 'a login user without keys',
    extra: '[ssh]\nuser = "ops"\n',
    expect: [/error E050 at ssh\.authorizedKeys: node k8s-cp-1 gets login user "ops" but no key/, /hint: .*never sets a password/],
  },
  {
    name: 'a user cloud-config writing a file k8s-ha manages',
    extra: USER,
    files: { 'extra.yaml': '#cloud-config\nwrite_files:\n  - path: /etc/k8s-ha-user/a\n    content: a\n  - path: /etc/haproxy//haproxy.cfg\n    content: x\n', 'extra.ign': USER_IGNITION },
    expect: [/p\.toml:\d+:\d+: error E051 at userContent\.cloudConfig: extra\.yaml:5:11: write_files\[1\] writes \/etc\/haproxy\/\/haproxy\.cfg, which k8s-ha manages \(the HAProxy config/],
  },
  {
    name: 'a user cloud-config setting the hostname',
    extra: USER,
    files: { 'extra.yaml': '#cloud-config\nhostname: mine\n', 'extra.ign': USER_IGNITION },
    expect: [/E051 at userContent\.cloudConfig: extra\.yaml:2:1: sets "hostname", which k8s-ha owns/],
  },
  {
    name: 'a user file that is not cloud-config',
    extra: USER,
    files: { 'extra.yaml': '#!/bin/sh\necho hi\n', 'extra.ign': USER_IGNITION },
    expect: [/E051 at userContent\.cloudConfig: extra\.yaml:1:1: not a cloud-config file/],
  },
  {
    name: 'a user cloud-config with a YAML error',
    extra: USER,
    files: { 'extra.yaml': '#cloud-config\nruncmd:\n  - [a, b\n', 'extra.ign': USER_IGNITION },
    expect: [/E051 at userContent\.cloudConfig: extra\.yaml:\d+:\d+: YAML syntax error/],
  },
  {
    name: 'a user Ignition that ignition-validate rejects',
    extra: USER,
    files: { 'extra.yaml': USER_CLOUD_CONFIG, 'extra.ign': '{\n  "ignition": {"version": "3.3.0"},\n  "storage": {"files": [{"path": "relative"}]}\n}\n' },
    expect: [/E051 at userContent\.ignition: extra\.ign:3:\d+: ignition-validate: \$\.storage\.files\.0\.path: path not absolute/],
  },
  {
    name: 'a user Ignition replacing the bootstrap unit',
    extra: USER,
    files: { 'extra.yaml': USER_CLOUD_CONFIG, 'extra.ign': '{"ignition": {"version": "3.3.0"}, "systemd": {"units": [{"name": "k8s-ha-bootstrap.service", "mask": true}]}}\n' },
    expect: [/E051 at userContent\.ignition: extra\.ign: systemd\.units\[0\] is k8s-ha-bootstrap\.service, which k8s-ha manages/],
  },
  {
    name: 'a user Ignition that is not JSON',
    extra: USER,
    files: { 'extra.yaml': USER_CLOUD_CONFIG, 'extra.ign': '{\n  "ignition": {"version": "3.3.0"},,\n}\n' },
    expect: [/E051 at userContent\.ignition: extra\.ign(:2:\d+)?: not valid JSON/],
  },
  {
    name: 'a missing user file, per node',
    extra: '[[nodes]]\nname = "k8s-cp-4"\naddress = "172.16.217.174/16"\nuserContent = { cloudConfig = "nope.yaml" }\n',
    expect: [/error E001 at nodes\[3\]\.userContent\.cloudConfig: cannot read nope\.yaml: no such file/],
  },
];

for (const c of BAD) {
  test(`bad input: ${c.name} -> exit 1, file, field and hint, nothing written`, (t) => {
    const dir = testDir(t);
    const profile = seedProfileWith(dir, c.extra, c.files);
    const r = render(dir, profile);
    t.is(r.code, 1, r.stderr);
    for (const e of c.expect) t.regex(r.stderr, e);
    t.regex(r.stderr, /hint: /);
    t.false(existsSync(join(dir, 'out')), 'nothing written');
    t.false(existsSync(join(dir, 's.json')), 'no secrets file created either');
  });
}

test('Butane input needs the butane program: a clear error when it is not installed', (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, '[userContent]\nignition = "extra.bu"\n', { 'extra.bu': 'variant: fcos\nversion: 1.4.0\n' });
  const r = render(dir, profile);
  if (hasTool('butane')) {
    t.is(r.code, 0, r.stderr);
    return;
  }
  t.is(r.code, 1);
  t.regex(r.stderr, /E051 at userContent\.ignition: extra\.bu is Butane YAML, and the butane program is not installed/);
  t.regex(r.stderr, /hint: install butane/);
});
