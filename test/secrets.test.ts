import test from 'ava';
import { readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import {
  BOOTSTRAP_TOKEN_PATTERN,
  CERTIFICATE_KEY_PATTERN,
  CA_CERT_HASH_PATTERN,
  generateBootstrapToken,
  generateCertificateKey,
} from '../src/secrets/generate.js';
import {
  generateSecrets,
  loadSecrets,
  parseSecrets,
  resolveSecrets,
  secretsPathFor,
  serialiseSecrets,
  type ClusterSecrets,
} from '../src/secrets/store.js';
import { run, runOk, testDir } from './helpers/tools.js';
import { cli } from './helpers/cli.js';
import { ProblemError } from '../src/profile/errors.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';

let shared: Promise<ClusterSecrets> | undefined;
/** One generated cluster shared by the read-only tests (RSA key generation takes ~100 ms). */
const sharedSecrets = () => (shared ??= generateSecrets());

test('caCertHash equals the openssl pipeline over the DER SubjectPublicKeyInfo', async (t) => {
  const secrets = await sharedSecrets();
  const dir = testDir(t, 'k8s-ha-secrets-');
  await writeFile(path.join(dir, 'ca.crt'), secrets.ca.certPem);
  runOk('openssl', ['version']);
  const out = runOk('sh', ['-c', 'openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum'], { cwd: dir });
  const hex = out.split(' ')[0];
  t.regex(secrets.caCertHash, CA_CERT_HASH_PATTERN);
  t.is(secrets.caCertHash, `sha256:${hex}`);
});

test('openssl reads the CA certificate as a kubeadm-like CA and its key as the matching key', async (t) => {
  const secrets = await sharedSecrets();
  const dir = testDir(t, 'k8s-ha-secrets-');
  await writeFile(path.join(dir, 'ca.crt'), secrets.ca.certPem);
  await writeFile(path.join(dir, 'ca.key'), secrets.ca.keyPem);
  const text = runOk('openssl', ['x509', '-in', 'ca.crt', '-noout', '-text'], { cwd: dir });
  t.regex(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  t.regex(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
  t.regex(text, /Subject: CN ?= ?kubernetes\n/);
  t.regex(text, /Issuer: CN ?= ?kubernetes\n/);
  t.regex(text, /Public-Key: \(2048 bit\)/);
  t.regex(text, /Signature Algorithm: sha256WithRSAEncryption/);
  t.regex(text, /X509v3 Subject Key Identifier/);
  const dates = runOk('openssl', ['x509', '-in', 'ca.crt', '-noout', '-startdate', '-enddate'], { cwd: dir });
  const [start, end] = [...dates.matchAll(/=(.+)\n/g)].map((m) => Date.parse(m[1]!));
  t.is(Math.round((end! - start!) / 86_400_000), 3650);
  t.regex(runOk('openssl', ['verify', '-CAfile', 'ca.crt', 'ca.crt'], { cwd: dir }), /ca\.crt: OK/);
  const fromKey = runOk('openssl', ['pkey', '-in', 'ca.key', '-pubout'], { cwd: dir });
  const fromCert = runOk('openssl', ['x509', '-in', 'ca.crt', '-noout', '-pubkey'], { cwd: dir });
  t.is(fromKey, fromCert);
});

test('tokens and certificate keys follow kubeadm formats, drawing every character', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const token = generateBootstrapToken();
    t.regex(token, BOOTSTRAP_TOKEN_PATTERN);
    for (const c of token.replace('.', '')) seen.add(c);
  }
  t.is(seen.size, 36);
  const keys = new Set(Array.from({ length: 100 }, generateCertificateKey));
  t.is(keys.size, 100);
  for (const key of keys) {
    t.regex(key, CERTIFICATE_KEY_PATTERN);
    t.is(Buffer.from(key, 'hex').length, 32);
  }
  // the exact rules of cluster-bootstrap and kubeadm, independent of our constants
  t.regex(generateBootstrapToken(), /^([a-z0-9]{6})\.([a-z0-9]{16})$/);
});

test('secrets file: created 0600 next to the profile, stable across loads, byte-identical', async (t) => {
  const dir = testDir(t, 'k8s-ha-secrets-');
  const profile = path.join(dir, 'lab.cluster.toml');
  t.is(secretsPathFor(profile), path.join(dir, 'lab.cluster.secrets.json'));
  const first = await resolveSecrets({ profilePath: profile });
  t.is(first.origin, 'created');
  t.is(first.file, path.join(dir, 'lab.cluster.secrets.json'));
  t.is((await stat(first.file)).mode & 0o777, 0o600);
  t.deepEqual(await readdir(dir), ['lab.cluster.secrets.json'], 'no temp file left behind');
  const bytes = await readFile(first.file, 'utf8');
  const again = await resolveSecrets({ profilePath: profile });
  t.is(again.origin, 'loaded');
  t.deepEqual(again.secrets, first.secrets);
  t.deepEqual(again.warnings, []);
  t.is(serialiseSecrets(again.secrets), bytes);
  t.is(await readFile(first.file, 'utf8'), bytes, 'loading does not rewrite the file');
});

test('secrets differ across clusters; --rotate replaces all of them; --secrets overrides the path', async (t) => {
  const dir = testDir(t, 'k8s-ha-secrets-');
  const a = await resolveSecrets({ profilePath: path.join(dir, 'a.yaml') });
  const b = await resolveSecrets({ profilePath: path.join(dir, 'b.yaml') });
  t.not(a.secrets.bootstrapToken, b.secrets.bootstrapToken);
  t.not(a.secrets.certificateKey, b.secrets.certificateKey);
  t.not(a.secrets.caCertHash, b.secrets.caCertHash);
  const rotated = await resolveSecrets({ profilePath: path.join(dir, 'a.yaml'), rotate: true });
  t.is(rotated.origin, 'rotated');
  t.is(rotated.file, a.file);
  t.not(rotated.secrets.bootstrapToken, a.secrets.bootstrapToken);
  t.not(rotated.secrets.certificateKey, a.secrets.certificateKey);
  t.not(rotated.secrets.ca.keyPem, a.secrets.ca.keyPem);
  t.not(rotated.secrets.caCertHash, a.secrets.caCertHash);
  t.deepEqual((await loadSecrets(a.file)), rotated.secrets);
  t.is((await stat(a.file)).mode & 0o777, 0o600);
  const custom = path.join(dir, 'elsewhere.json');
  const c = await resolveSecrets({ profilePath: path.join(dir, 'a.yaml'), secretsFile: custom });
  t.is(c.file, custom);
  t.is((await stat(custom)).mode & 0o777, 0o600);
  t.deepEqual((await resolveSecrets({ profilePath: path.join(dir, 'a.yaml'), secretsFile: custom })).secrets, c.secrets);
});

test('a secrets file readable by others is used, with a warning', async (t) => {
  const dir = testDir(t, 'k8s-ha-secrets-');
  const first = await resolveSecrets({ profilePath: path.join(dir, 'p.toml') });
  await chmod(first.file, 0o644);
  const again = await resolveSecrets({ profilePath: path.join(dir, 'p.toml') });
  t.deepEqual(again.secrets, first.secrets);
  t.is(again.warnings.length, 1);
  t.is(again.warnings[0]!.code, 'W_SECRET_FILE_MODE');
  t.regex(again.warnings[0]!.message, /mode 0644: it holds cluster secrets/);
  t.is(again.warnings[0]!.hint, `chmod 600 ${first.file}`);
});

test('CLI: a secrets file readable by others is warning W108, and an error under --strict', async (t) => {
  const dir = testDir(t, 'k8s-ha-secrets-');
  const file = path.join(dir, 'loose.secrets.json');
  await writeFile(file, await readFile(FIXTURE_SECRETS_FILE, 'utf8'));
  await chmod(file, 0o644);
  const out = path.join(dir, 'out');
  const warn = cli(['render', 'profiles/seed.toml', '--secrets', file, '--out', out]);
  t.is(warn.code, 0, warn.stderr);
  t.true(warn.stderr.includes(`${file}: warning W108: ${file} is mode 0644: it holds cluster secrets, readable by group or others\n  hint: chmod 600 ${file}`), warn.stderr);
  await rm(out, { recursive: true });
  const strict = cli(['render', 'profiles/example.yaml', '--secrets', file, '--out', out, '--strict', '--format', 'cloud-init']);
  t.is(strict.code, 1, strict.stderr);
  t.regex(strict.stderr, /error W108: .* is mode 0644[^]*k8s-ha: 1 error, 0 warnings \(--strict\)/);
  await t.throwsAsync(stat(out), { code: 'ENOENT' }, 'nothing written');
});

test('an invalid secrets file is rejected with the file and field named', async (t) => {
  const good = JSON.parse(serialiseSecrets(await sharedSecrets())) as Record<string, unknown>;
  const other = await generateSecrets();
  const cases: [string, unknown, RegExp][] = [
    ['not json', '{', /^s\.json: error E060 at \(file\): expected JSON/],
    ['not an object', '[1]', /^s\.json: error E060 at \(file\): expected a JSON object/],
    ['bad token', { ...good, bootstrapToken: 'ABCDEF.0123456789abcdef' }, /^s\.json:1:\d+: error E060 at bootstrapToken: expected a kubeadm bootstrap token/],
    ['short key', { ...good, certificateKey: 'abcd' }, /^s\.json:1:\d+: error E060 at certificateKey: expected 64 lower-case hex/],
    ['unknown field', { ...good, token: 'x' }, /^s\.json:1:\d+: error E060 at token: unknown field/],
    ['wrong version', { ...good, version: 2 }, /^s\.json:1:12: error E060 at version: expected 1, got 2/],
    ['missing CA', { ...good, caCert: undefined }, /^s\.json: error E060 at caCert: expected a string, got nothing/],
    ['garbage CA', { ...good, caCert: 'nope' }, /^s\.json:1:\d+: error E060 at caCert: expected a PEM certificate/],
    ['foreign key', { ...good, caKey: other.ca.keyPem }, /^s\.json:1:\d+: error E060 at caKey: expected the private key of caCert/],
    ['garbage key', { ...good, caKey: 'nope' }, /^s\.json:1:\d+: error E060 at caKey: expected a PEM private key/],
  ];
  for (const [name, value, message] of cases) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const err = t.throws(() => parseSecrets(text, 's.json'), { instanceOf: ProblemError }, name);
    t.regex(err!.message, message, name);
    t.regex(err!.message, /\n  hint: /, name);
  }
  // Every shape problem at once, each at its own line:col of the file as k8s-ha writes it.
  const several = JSON.stringify({ ...good, version: 3, certificateKey: 'x', extra: true }, null, 2);
  const all = t.throws(() => parseSecrets(several, 's.json'), { instanceOf: ProblemError });
  t.deepEqual(all!.problems.map((p) => `${p.path.join('.')}@${p.line}:${p.col}`).sort(), ['certificateKey@4:21', 'extra@7:3', 'version@2:14'].sort());
  const dir = testDir(t, 'k8s-ha-secrets-');
  const file = path.join(dir, 'p.secrets.json');
  await writeFile(file, JSON.stringify({ ...good, certificateKey: 'abcd' }), { mode: 0o600 });
  await t.throwsAsync(resolveSecrets({ profilePath: path.join(dir, 'p.toml') }), {
    message: new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:1:\\d+: error E060 at certificateKey: [^]*--rotate`),
  });
});

test('the test helper turns a missing tool into a failure naming the apt package', (t) => {
  t.throws(() => run('k8s-ha-no-such-tool', []), { message: /apt-get install -y k8s-ha-no-such-tool/ });
});

test('CLI: a secrets file that cannot be written is exit 1 naming the cause, nothing rendered', async (t) => {
  const dir = testDir(t);
  // procfs refuses to create files, even for root: stat says ENOENT, the write then fails.
  const r = cli(['render', 'profiles/seed.toml', '--out', path.join(dir, 'out'), '--secrets', '/proc/k8s-ha-test.secrets.json']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /^k8s-ha: cannot write the secrets file: ENOENT: no such file or directory, open '\/proc\/k8s-ha-test\.secrets\.json\.tmp-/m);
  t.notRegex(r.stderr, /internal error/);
  await t.throwsAsync(stat(path.join(dir, 'out')), { code: 'ENOENT' });
});
