import test from 'ava';
import { execFileSync } from 'node:child_process';
import { sha256File } from './helpers/files.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkBootSettings } from '../src/bundle/boot.js';
import { bundleEntries } from '../src/bundle/layout.js';
import { writeArchive, type ArchiveEntry } from '../src/sinks/tar.js';
import { testSource } from './helpers/bundle-fixture.js';
import { testDir } from './helpers/tools.js';

const source = () => ({ ...testSource('flatcar'), boot: checkBootSettings(testSource('flatcar').boot) });

test('two bundle runs are byte-identical, also a second apart', async (t) => {
  const dir = testDir(t);
  await writeArchive(join(dir, 'a.tar.gz'), bundleEntries(source()));
  await sleep(1100);
  await writeArchive(join(dir, 'b.tar.gz'), bundleEntries(source()));
  t.is(sha256File(join(dir, 'a.tar.gz')), sha256File(join(dir, 'b.tar.gz')));
  // gzip header (RFC 1952): MTIME bytes 4..7 are zero.
  t.deepEqual([...readFileSync(join(dir, 'a.tar.gz')).subarray(4, 8)], [0, 0, 0, 0]);
});

test('archive members: sorted, mtime 0, root:root, fixed modes; output 0600, no temp file left', async (t) => {
  const dir = testDir(t);
  const out = join(dir, 'bundle.tar.gz');
  await writeArchive(out, bundleEntries(source()));
  t.is(statSync(out).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir), ['bundle.tar.gz']);
  const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', out], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
    .trim().split('\n').map((line) => line.split(/\s+/));
  const paths = listing.map((cols) => cols[5] ?? '');
  t.deepEqual(paths, [...paths].sort());
  for (const [perm, owner, , date, time, path] of listing) {
    t.is(owner, '0/0', path);
    t.is(`${date} ${time}`, '1970-01-01 00:00:00', path);
    const expected = path?.endsWith('/') ? 'drwxr-xr-x'
      : /(user-data|config\.ign|matchbox\/ignition\/.*(?<!-install)\.ign)$/.test(path ?? '') ? '-rw-------' : '-rw-r--r--';
    t.is(perm, expected, path);
  }
  t.true(paths.includes('nodes/cp-0/network-config'));
  t.false(paths.includes('nodes/worker-3/network-config'), 'DHCP nodes get no network-config');
  const names = execFileSync('tar', ['-tvzf', out], { encoding: 'utf8' });
  t.regex(names, /root\/root/);
});

test('.tar output is uncompressed', async (t) => {
  const dir = testDir(t);
  await writeArchive(join(dir, 'b.tar'), bundleEntries(source()));
  const bytes = readFileSync(join(dir, 'b.tar'));
  t.is(bytes.subarray(257, 262).toString(), 'ustar');
  t.regex(execFileSync('tar', ['-tf', join(dir, 'b.tar')], { encoding: 'utf8' }), /^README\.txt$/m);
});

test('out-of-order or unsafe entries fail and leave no file behind', async (t) => {
  const dir = testDir(t);
  const unsorted: ArchiveEntry[] = [{ path: 'b', mode: 0o644, content: 'b' }, { path: 'a', mode: 0o644, content: 'a' }];
  await t.throwsAsync(writeArchive(join(dir, 'x.tar.gz'), unsorted), { message: /out of order: "a" after "b"/ });
  await t.throwsAsync(writeArchive(join(dir, 'y.tar'), [{ path: '../etc/passwd', mode: 0o644, content: '' }]), { message: /relative/ });
  t.deepEqual(readdirSync(dir), []);
});

test('a failing renderer aborts the archive without touching an existing output', async (t) => {
  const dir = testDir(t);
  const out = join(dir, 'bundle.tar.gz');
  await writeArchive(out, bundleEntries(source()));
  const before = sha256File(out);
  const broken = { ...source(), render: () => { throw new Error('render failed'); } };
  await t.throwsAsync(writeArchive(out, bundleEntries(broken)), { message: 'render failed' });
  t.is(sha256File(out), before);
  t.deepEqual(readdirSync(dir), ['bundle.tar.gz']);
});
