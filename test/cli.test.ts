/**
 * The CLI as a user runs it: render writes the tree with the right modes, --node and
 * --format narrow it, --stdout prints exactly what render writes, check writes nothing.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, cli } from './helpers/cli.js';
import { seedWithWorkers } from './helpers/profiles.js';
import { testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';

/** The test-only secrets: a render must never create a secrets file next to profiles/seed.toml. */
const SECRETS = ['--secrets', FIXTURE_SECRETS_FILE];

test('render writes user-data and config.ign 0600, meta-data 0644, and prints a summary', (t) => {
  const dir = testDir(t);
  const r = cli(['render', 'profiles/seed.toml', '--out', dir, ...SECRETS]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /k8s-cp-1\s+172\.16\.217\.171\/16\s+init\s+MASTER\s+150/);
  t.regex(r.stdout, /k8s-cp-2\s+172\.16\.217\.172\/16\s+control-plane\s+BACKUP\s+140/);
  t.regex(r.stdout, /VIP 172\.16\.100\.100, 172\.16\.100\.101 port 7443/);
  t.regex(r.stdout, /\d+\.\d KiB/);
  // The seed profile's VRRP password is "pass": its warning shows the line redacted, and the
  // word appears nowhere in lower case (the CA key, token and certificate key neither).
  t.regex(r.stderr, /^ {2}authPass = <redacted>$/m);
  t.notRegex(r.stdout + r.stderr, /auth_pass|\bpass\b|PRIVATE KEY/, 'no secret printed');
  const secrets = JSON.parse(readFileSync(FIXTURE_SECRETS_FILE, 'utf8')) as Record<string, string>;
  for (const k of ['bootstrapToken', 'certificateKey'] as const) t.false((r.stdout + r.stderr).includes(secrets[k]!), `${k} printed`);
  for (const n of ['k8s-cp-1', 'k8s-cp-2', 'k8s-cp-3']) {
    t.is(statSync(join(dir, n, 'user-data')).mode & 0o777, 0o600);
    t.is(statSync(join(dir, n, 'config.ign')).mode & 0o777, 0o600);
    t.is(statSync(join(dir, n, 'meta-data')).mode & 0o777, 0o644);
    t.true(readFileSync(join(dir, n, 'user-data'), 'utf8').startsWith('#cloud-config\n'));
  }
});

test('--node and --format narrow the output; --stdout prints what render writes', (t) => {
  const dir = testDir(t);
  t.is(cli(['render', 'profiles/seed.toml', '--out', dir, '--node', 'k8s-cp-2', '--format', 'ignition', ...SECRETS]).code, 0);
  t.deepEqual(readdirSync(dir), ['k8s-cp-2']);
  t.deepEqual(readdirSync(join(dir, 'k8s-cp-2')), ['config.ign']);
  const ign = cli(['render', 'profiles/seed.toml', '--node', 'k8s-cp-2', '--format', 'ignition', '--stdout', ...SECRETS]);
  t.is(ign.code, 0);
  t.is(ign.stdout, readFileSync(join(dir, 'k8s-cp-2', 'config.ign'), 'utf8'));
  const v35 = cli(['render', 'profiles/seed.toml', '--node', 'k8s-cp-2', '--format', 'ignition', '--stdout', '--ignition-version', '3.5.0', ...SECRETS]);
  t.is(JSON.parse(v35.stdout).ignition.version, '3.5.0');
  const ud = cli(['render', 'profiles/seed.toml', '--node', 'k8s-cp-1', '--format', 'cloud-init', '--stdout', ...SECRETS]);
  t.true(ud.stdout.startsWith('#cloud-config\n'));
});

test('check prints the plan and warnings and writes nothing; --strict fails on warnings', (t) => {
  const dir = testDir(t);
  // A copy of the seed profile in an empty directory, run from there: anything check
  // wrote (out/, a secrets file next to the profile) would show up in it.
  const profile = join(dir, 'seed.toml');
  // Plus a hook carrying a credential, which --json must not print.
  writeFileSync(profile, readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8').replace(/^\[kubernetes\]$/m, '[kubernetes]\npreKubeadmCommands = ["curl -H \'Authorization: Bearer s3cr3t\' https://example.test/x"]'));
  t.regex(readFileSync(profile, 'utf8'), /s3cr3t/);
  const r = cli(['check', profile], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /is valid: cluster seed/);
  t.regex(r.stdout, /k8s-cp-3\s+172\.16\.217\.173\/16\s+control-plane\s+BACKUP\s+130\s+eth0\s+172\.16\.217\.171, 172\.16\.217\.172/);
  t.regex(r.stderr, /warning W101 at vip\.routerId/);
  const json = cli(['check', profile, '--json'], { cwd: dir });
  const plan = JSON.parse(json.stdout).plan;
  t.is(plan.keepalived.authPass, '(redacted)');
  t.deepEqual(plan.kubernetes.preKubeadmCommands, [{ run: '(redacted)', roles: ['init', 'control-plane', 'worker'] }]);
  t.false(json.stdout.includes('s3cr3t'));
  t.is(plan.nodes[0].vrrp.state, 'MASTER');
  const strict = cli(['check', profile, '--strict'], { cwd: dir });
  t.is(strict.code, 1);
  t.regex(strict.stderr, /error W101 at vip\.routerId/);
  t.deepEqual(readdirSync(dir), ['seed.toml'], 'check wrote nothing');
});

test('render replaces only an earlier render: a directory with other files, or a file, is refused', (t) => {
  const dir = testDir(t);
  writeFileSync(join(dir, 'notes.txt'), 'keep me');
  const r = cli(['render', 'profiles/seed.toml', '--out', dir, ...SECRETS]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /: error E071 at --out: holds notes\.txt, which this output would not write[^]*hint: choose another --out/);
  t.deepEqual(readdirSync(dir), ['notes.txt']);
  t.is(cli(['render', 'profiles/seed.toml', '--out', join(dir, 'notes.txt'), ...SECRETS]).code, 1);
  t.is(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'keep me');
  const out = join(dir, 'out');
  t.is(cli(['render', 'profiles/seed.toml', '--out', out, ...SECRETS]).code, 0);
  t.is(cli(['render', 'profiles/seed.toml', '--out', out, '--ignition-version', '3.4.0', ...SECRETS]).code, 0, 'an earlier render is replaced');
  t.is(cli(['render', 'profiles/seed.toml', '--out', out, '--node', 'k8s-cp-2', ...SECRETS]).code, 0, 'and one node of it');
});

test('a re-render that changes nothing writes nothing; OUTPUT says which nodes changed', (t) => {
  const out = join(testDir(t), 'out');
  const column = (stdout: string): string[] => stdout.split('\n').filter((l) => /^k8s-cp-.* (un)?changed$/.test(l)).map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).at(-1)}`);
  const first = cli(['render', 'profiles/seed.toml', '--out', out, ...SECRETS]);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(column(first.stdout), ['k8s-cp-1 changed', 'k8s-cp-2 changed', 'k8s-cp-3 changed']);
  const before = statSync(join(out, 'k8s-cp-1', 'user-data'));
  const again = cli(['render', 'profiles/seed.toml', '--out', out, ...SECRETS]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /^k8s-ha: rendered cluster seed \(3 nodes\) into .*; the files there were the same, nothing written\n/);
  t.deepEqual(column(again.stdout), ['k8s-cp-1 unchanged', 'k8s-cp-2 unchanged', 'k8s-cp-3 unchanged']);
  const after = statSync(join(out, 'k8s-cp-1', 'user-data'));
  t.is(after.ino, before.ino, 'the very same file, not a rewritten copy');
  t.is(after.mtimeMs, before.mtimeMs);
  // Only k8s-cp-3 gets another NIC: only its files change.
  const dir = testDir(t);
  const profile = join(dir, 'seed.toml');
  const text = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
  const last = text.lastIndexOf('[[nodes]]\n');
  writeFileSync(profile, `${text.slice(0, last)}[[nodes]]\ninterface = "eth1"\n${text.slice(last + '[[nodes]]\n'.length)}`);
  const one = cli(['render', profile, '--out', out, ...SECRETS]);
  t.is(one.code, 0, one.stderr);
  t.deepEqual(column(one.stdout), ['k8s-cp-1 unchanged', 'k8s-cp-2 unchanged', 'k8s-cp-3 changed']);
  t.notRegex(one.stdout, /nothing written/);
});

test('--node naming no node of the profile is a usage error (exit 2) listing the nodes, for render and seed', (t) => {
  const out = join(testDir(t), 'out');
  for (const args of [['render', 'profiles/seed.toml', '--out', out, '--node', 'k8s-cp-9'], ['seed', 'profiles/seed.toml', '--out', join(out, 's.iso'), '--node', 'k8s-cp-9']]) {
    const r = cli([...args, ...SECRETS]);
    t.is(r.code, 2, `${args[0]}: ${r.stderr}`);
    t.regex(r.stderr, /k8s-ha: no node named "k8s-cp-9" in profiles\/seed\.toml; nodes: k8s-cp-1, k8s-cp-2, k8s-cp-3\n/);
  }
  t.throws(() => statSync(out), { code: 'ENOENT' }, 'nothing written');
});


// Regression: the CLI ended with process.exit() while node still held output for a pipe whose
// 64 KiB buffer was full, and the reader got 65536 bytes (exit status 0).
test('output to a pipe with a slow reader arrives whole: stdout and stderr, beyond the pipe buffer', (t) => {
  const dir = testDir(t);
  const big = join(dir, 'big.toml');
  writeFileSync(big, seedWithWorkers(1000, (i) => `w${i}`));
  const bad = join(dir, 'bad.toml');
  writeFileSync(bad, seedWithWorkers(1000, () => 'w')); // 999 duplicate names: 999 errors on stderr
  const direct = cli(['check', big, '--json']);
  t.is(direct.code, 0, direct.stderr);
  const errors = cli(['check', bad]);
  t.is(errors.code, 1);
  t.true(direct.stdout.length > 65536 && errors.stderr.length > 65536, 'outputs must exceed a pipe buffer');
  const slow = (cmd: string) => {
    const r = spawnSync('sh', ['-c', `${cmd} | (sleep 0.5; wc -c)`], { encoding: 'utf8', env: { ...process.env, CLI, BIG: big, BAD: bad } });
    return Number(r.stdout.trim());
  };
  t.is(slow('"$CLI" check "$BIG" --json 2>/dev/null'), Buffer.byteLength(direct.stdout));
  t.is(slow('"$CLI" check "$BAD" 2>&1 >/dev/null'), Buffer.byteLength(errors.stderr));
});
