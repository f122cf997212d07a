/**
 * A new user's first hour with the CLI (issue 17, item 1 and the messages of item 6): a
 * profile on standard input like any Unix tool, never the bundled profile in its place;
 * `check --json` as one JSON document whatever the outcome; byte sizes as people write them;
 * `k8s-ha init` printing a starter profile that passes check; messages that say what is wrong.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, cli, type CliResult } from './helpers/cli.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';

/** Runs bin/k8s-ha with `input` on its standard input (a pipe). */
function piped(args: string[], input: string, cwd = ROOT): CliResult {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.K8S_HA_AUTH_PASS;
  const r = spawnSync(CLI, args, { cwd, input, encoding: 'utf8', env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const example = readFileSync(join(ROOT, 'profiles', 'example.yaml'), 'utf8');
const baremetal = readFileSync(join(ROOT, 'profiles', 'baremetal.toml'), 'utf8');

test('- and /dev/stdin read the profile from standard input, TOML or YAML recognised from the content', (t) => {
  for (const arg of ['-', '/dev/stdin']) {
    const yaml = piped(['check', arg], example);
    t.is(yaml.code, 0, yaml.stderr);
    t.regex(yaml.stdout, /profile \(stdin\) is valid: cluster prod-eu1/, `${arg}: the piped profile, not the bundled seed.toml`);
    const toml = piped(['check', arg], baremetal);
    t.regex(toml.stdout, /profile \(stdin\) is valid: cluster bm-prod/, arg);
  }
  // Problems name the input and carry line:col.
  const bad = piped(['check', '-'], example.replace('version: v1.31.2', 'version: v1.31.x'));
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^\(stdin\):\d+:\d+: error E014 at kubernetes\.version/m);
  t.notRegex(bad.stdout + bad.stderr, /seed/);
});

test('--profile-format decides; unrecognisable input is a usage error, never the default profile', (t) => {
  // A YAML flow mapping on one line looks like neither format's usual first line.
  const flow = '["not", "a", "profile"]\n';
  const unknown = piped(['check', '-'], flow);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /cannot tell whether the profile on standard input is TOML or YAML\n {2}hint: pass --profile-format toml or --profile-format yaml/);
  t.is(unknown.stdout, '');
  const empty = piped(['check', '-'], '');
  t.is(empty.code, 2);
  t.regex(empty.stderr, /\(it is empty\)/);
  const given = piped(['check', '-', '--profile-format', 'yaml'], flow);
  t.is(given.code, 1);
  t.regex(given.stderr, /^\(stdin\): error E010 at \(profile\): expected a table/m);
  // --profile-format also overrides a file's extension.
  const dir = testDir(t);
  const odd = join(dir, 'cluster.conf');
  writeFileSync(odd, example);
  t.is(cli(['check', odd, '--profile-format', 'yaml']).code, 0);
});

test('render from standard input needs --secrets (no directory to put them in) and renders the piped profile', (t) => {
  const dir = testDir(t);
  const none = piped(['render', '-', '--out', dir], example, dir);
  t.is(none.code, 2);
  t.regex(none.stderr, /a profile read from standard input has no directory for its secrets file\n {2}hint: give --secrets FILE/);
  t.deepEqual(readdirSync(dir), [], 'nothing written');
  const r = piped(['render', '-', '--out', join(dir, 'out'), '--secrets', FIXTURE_SECRETS_FILE], example, dir);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(readdirSync(join(dir, 'out')).sort(), ['cp-a', 'cp-b', 'cp-c']);
});

test('check --json prints one JSON document when the profile is invalid too, problems with code, path, line:col, message, hint', (t) => {
  const bad = cli(['check', 'fixtures/errors/duplicates.toml', '--json']);
  t.is(bad.code, 1);
  const doc = JSON.parse(bad.stdout) as { valid: boolean; source: string; plan?: unknown; problems: Record<string, unknown>[] };
  t.false(doc.valid);
  t.is(doc.plan, undefined);
  t.is(doc.source, 'fixtures/errors/duplicates.toml');
  t.deepEqual(doc.problems[0], {
    code: 'E020',
    name: 'E_DUPLICATE',
    severity: 'error',
    path: 'nodes[1].name',
    line: 17,
    col: 8,
    message: 'duplicate node name "cp-1" (also nodes.0)',
    hint: 'node names become hostnames and HAProxy server names: each must be unique',
  });
  t.regex(bad.stderr, /^k8s-ha: 3 errors, 1 warning$/m);
  // A syntax error and an unreadable file are documents as well.
  for (const file of ['fixtures/errors/syntax-error.toml', 'no/such/profile.toml']) {
    const r = cli(['check', file, '--json']);
    t.is(r.code, 1, file);
    t.false((JSON.parse(r.stdout) as { valid: boolean }).valid, file);
  }
  // Valid: plan and warnings; --strict turns the warnings into problems and valid false.
  const ok = JSON.parse(cli(['check', 'profiles/seed.toml', '--json']).stdout) as { valid: boolean; warnings: { code: string; line: number; hint: string }[]; problems: unknown[] };
  t.true(ok.valid);
  t.deepEqual(ok.problems, []);
  t.true(ok.warnings.some((w) => w.code === 'W101' && w.line === 12 && w.hint.includes('virtual_router_id')));
  const strict = cli(['check', 'profiles/seed.toml', '--json', '--strict']);
  t.is(strict.code, 1);
  const s = JSON.parse(strict.stdout) as { valid: boolean; problems: { severity: string }[] };
  t.false(s.valid);
  t.true(s.problems.length > 0 && s.problems.every((p) => p.severity === 'error'));
});

test('--max-user-data takes 16384, 16k and 16KiB alike and refuses what it cannot read', (t) => {
  const args = (v: string) => ['render', 'profiles/seed.toml', '--node', 'k8s-cp-1', '--format', 'cloud-init', '--stdout', '--secrets', FIXTURE_SECRETS_FILE, '--max-user-data', v];
  const outs = ['16384', '16k', '16K', '16KiB'].map((v) => cli(args(v)));
  for (const r of outs) t.is(r.code, 0, r.stderr);
  // 1k is below the seed's init node user-data: the limit is applied, in bytes.
  const small = cli(args('1k'));
  t.is(small.code, 1);
  t.regex(small.stderr, /1024/);
  for (const v of ['16kB', 'lots', '0', '1.5k']) {
    const r = cli(args(v));
    t.is(r.code, 2, v);
    t.regex(r.stderr, /--max-user-data must be a positive whole number of bytes such as 16384, 16k or 16KiB/, v);
    t.notRegex(r.stderr, /NaN/, v);
  }
});

test('k8s-ha init prints a commented starter profile that passes check as printed, also filled from flags', (t) => {
  const starter = cli(['init']);
  t.is(starter.code, 0, starter.stderr);
  t.regex(starter.stdout, /^# k8s-ha cluster profile, written by `k8s-ha init`/);
  t.regex(starter.stdout, /^\[\[nodes\]\]$/m);
  t.regex(starter.stdout, /^# /m, 'commented');
  const checked = piped(['check', '-', '--strict'], starter.stdout);
  t.is(checked.code, 0, checked.stderr);
  t.regex(checked.stdout, /0 warnings/);

  const filled = cli(['init', '--vip', '10.1.0.10', '--nodes', '10.1.0.11/24,10.1.0.12/24', '--nodes', 'cp-c=10.1.0.13/24', '--workers', '10.1.0.21/24,10.1.0.22/24', '--interface', 'ens18', '--version', 'v1.32.3']);
  t.is(filled.code, 0, filled.stderr);
  const r = piped(['check', '-', '--json'], filled.stdout);
  t.is(r.code, 0, r.stderr);
  const plan = (JSON.parse(r.stdout) as { plan: { vip: { addresses: string[]; interface: string }; kubernetes: { version: string }; nodes: { name: string; address: string; role: string }[] } }).plan;
  t.deepEqual(plan.vip.addresses, ['10.1.0.10']);
  t.is(plan.vip.interface, 'ens18');
  t.is(plan.kubernetes.version, 'v1.32.3');
  t.deepEqual(plan.nodes.map((n) => `${n.name} ${n.address} ${n.role}`), [
    'cp-1 10.1.0.11 init', 'cp-2 10.1.0.12 control-plane', 'cp-c 10.1.0.13 control-plane', 'worker-1 10.1.0.21 worker', 'worker-2 10.1.0.22 worker',
  ]);

  // A flag value the profile check refuses: reported on its line, nothing on stdout.
  const bad = cli(['init', '--vip', '10.1.0.10', '--nodes', '10.1.0.11/24', '--version', '1.32']);
  t.is(bad.code, 2);
  t.is(bad.stdout, '');
  t.regex(bad.stderr, /error E014 at kubernetes\.version: expected a full Kubernetes release with its patch number/);
  t.is(cli(['init', '--nodes', '10.1.0.11/24']).code, 2, '--nodes without --vip');
});

test('messages: TOML in a .yaml file says so; a version without patch says what is missing; a bare bundle or seed points at its own help', (t) => {
  const dir = testDir(t);
  const yaml = join(dir, 'cluster.yaml');
  writeFileSync(yaml, baremetal);
  const r = cli(['check', yaml]);
  t.is(r.code, 1);
  t.regex(r.stderr, /hint: this looks like TOML, not YAML: name the file \*\.toml \(or pass --profile-format toml\)/);
  const toml = join(dir, 'cluster.toml');
  writeFileSync(toml, example);
  t.regex(cli(['check', toml]).stderr, /hint: this looks like YAML, not TOML/);

  const v = join(dir, 'v.toml');
  writeFileSync(v, baremetal.replace('version = "v1.31.2"', 'version = "1.32"'));
  const rv = cli(['check', v]);
  t.regex(rv.stderr, /error E014 at kubernetes\.version: expected a full Kubernetes release with its patch number, such as v1\.31\.2 \(not just 1\.31\), got "1\.32"/);
  t.notRegex(rv.stderr, /1\.22 or newer/);

  const seed = cli(['seed']);
  t.is(seed.code, 2);
  t.regex(seed.stderr, /Run k8s-ha seed --help for usage\./);
  const bundle = cli(['bundle', '--out', join(dir, 'b.tar.gz')]);
  t.is(bundle.code, 2);
  t.regex(bundle.stderr, /name the profile to bundle; it needs a \[boot\] section, e\.g\. k8s-ha bundle profiles\/baremetal\.toml/);
  t.deepEqual(readdirSync(dir).sort(), ['cluster.toml', 'cluster.yaml', 'v.toml']);
});

test('the secrets warning names the VRRP password only when the profile has one, and where the embedded CA key is readable', (t) => {
  const dir = testDir(t);
  const args = (p: string) => ['render', p, '--out', join(dir, p.replace(/\W/g, '-')), '--secrets', FIXTURE_SECRETS_FILE];
  const v3 = cli(args('profiles/example.yaml'));
  t.is(v3.code, 0, v3.stderr);
  t.regex(v3.stderr, /warning: the outputs hold cluster secrets \(bootstrap token, certificate key, CA key\): they are written 0600/);
  const v2 = cli(args('profiles/seed.toml'));
  t.regex(v2.stderr, /cluster secrets \(bootstrap token, certificate key, CA key, VRRP password\)/);
  // Where the embedded CA key can be read, said every time outputs carrying it are made.
  for (const r of [v2, v3]) t.regex(r.stderr, /warning: the init node's user-data and config\.ign carry the cluster CA private key \(\/etc\/kubernetes\/pki\/ca\.key\): a cloud serves user-data from its metadata service for the VM's whole life, and a PXE bundle's HTTP server hands it to anyone on the provisioning network/);
});

test('README: the default priorities it states are the ones the profiles get (VRRPv2 and VRRPv3)', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const row = readme.split('\n').find((l) => l.startsWith('| `nodes[].priority` |'))!;
  const json = (p: string) => (JSON.parse(cli(['check', p, '--json']).stdout) as { plan: { nodes: { vrrp?: { priority: number } }[] } }).plan.nodes.flatMap((n) => (n.vrrp ? [n.vrrp.priority] : []));
  t.deepEqual(json('profiles/example.yaml'), [250, 130, 10]);
  t.true(row.includes('250, 130, 10'), row);
  t.deepEqual(json('fixtures/lab/lab.toml'), [150, 140, 130]);
  t.true(row.includes('150, 140, 130'), row);
});

test('npm pack ships no secrets file', (t) => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  t.true(files.includes('bin/k8s-ha') && files.includes('profiles/seed.toml'), files.join(' '));
  t.deepEqual(files.filter((f) => /secrets\.json$/.test(f)), []);
  t.deepEqual(files.filter((f) => !/^(bin\/|dist\/src\/|profiles\/|package\.json$|README\.md$|LICENSE|docs\/)/.test(f)), [], 'only the package itself');
});
