/**
 * The package's bin, bin/k8s-ha: it starts node from the startup snapshot (dist/k8s-ha.blob)
 * when that blob fits this node and this install, and falls back to the plain bundle otherwise.
 * Both ways must behave the same: same files byte for byte, same messages, same exit codes.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from './helpers/cli.js';
import { readTree } from './helpers/files.js';
import { testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `sh -x` trace of the launcher: which node command line it ran. */
  trace: string;
}

/** Runs `bin` (default the repository's bin/k8s-ha) under `sh -x`, with extra env. */
function launch(args: string[], env: Record<string, string> = {}, opts: { bin?: string; cwd?: string } = {}): Run {
  const base: Record<string, string | undefined> = { ...process.env, ...env };
  delete base.K8S_HA_AUTH_PASS;
  if (!('NODE_OPTIONS' in env)) delete base.NODE_OPTIONS;
  if (!('K8S_HA_NO_SNAPSHOT' in env)) delete base.K8S_HA_NO_SNAPSHOT;
  const r = spawnSync('sh', ['-x', opts.bin ?? CLI, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: base });
  const lines = r.stderr.split('\n');
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith('+')).join('\n'),
    trace: lines.filter((l) => l.startsWith('+')).join('\n'),
  };
}

/** The two ways: the snapshot (default), the plain bundle. */
const WAYS: Record<string, string>[] = [{}, { K8S_HA_NO_SNAPSHOT: '1' }];

const viaSnapshot = (r: Run) => /\+ exec \S+ --no-rehash-snapshot --snapshot-blob \S+k8s-ha\.blob -- /.test(r.trace);
const viaBundle = (r: Run) => /\+ exec node \S+k8s-ha\.cjs/.test(r.trace);

test('the build recorded this node and this blob; the bin uses the snapshot', (t) => {
  const [node, blob, flags] = readFileSync(join(ROOT, 'dist', 'k8s-ha.blob.id'), 'utf8').split('\n');
  t.is(blob, join(ROOT, 'dist', 'k8s-ha.blob'));
  t.is(flags, '--no-rehash-snapshot', 'the V8 flags the blob was built with, which the bin passes');
  t.true(statSync(blob!).size > 1_000_000, 'a blob holding the CLI');
  t.is(statSync(node!).ino, statSync(process.execPath).ino, `built by ${node}, tests run ${process.execPath}: run npm run build`);
  const r = launch(['--version']);
  t.is(r.code, 0, r.stderr);
  t.true(viaSnapshot(r), r.trace);
  t.is(r.stdout, `${VERSION}\n`);
});

test('--version is the package version from any working directory, both ways', (t) => {
  const dir = testDir(t);
  for (const env of WAYS) {
    const r = launch(['--version'], env, { cwd: dir });
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, `${VERSION}\n`, JSON.stringify(env));
  }
});

test('falls back to the plain bundle: K8S_HA_NO_SNAPSHOT, NODE_OPTIONS (node refuses the blob with V8 flags), another node', (t) => {
  const off = launch(['--version'], { K8S_HA_NO_SNAPSHOT: '1' });
  t.true(viaBundle(off), off.trace);
  t.is(off.stdout, `${VERSION}\n`);
  const opts = launch(['--version'], { NODE_OPTIONS: '--max-old-space-size=512' });
  t.true(viaBundle(opts), opts.trace);
  t.is(opts.code, 0, opts.stderr);
  t.is(opts.stdout, `${VERSION}\n`);
  // Proof that the fallback is needed: node itself refuses the blob under a V8 flag.
  const refused = spawnSync(process.execPath, ['--max-old-space-size=512', '--snapshot-blob', join(ROOT, 'dist', 'k8s-ha.blob'), '--', '--version'], { encoding: 'utf8' });
  t.not(refused.status, 0);
  t.regex(refused.stderr, /snapshot/i);

  // A copy of the install whose id names another node binary, and one whose blob moved.
  const dir = testDir(t);
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  for (const f of ['bin/k8s-ha', 'bin/k8s-ha.cjs', 'dist/k8s-ha.cjs', 'dist/k8s-ha.blob']) copyFileSync(join(ROOT, f), join(dir, f));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const [node, , flags] = readFileSync(join(ROOT, 'dist', 'k8s-ha.blob.id'), 'utf8').split('\n');
  const bin = join(dir, 'bin', 'k8s-ha');
  writeFileSync(join(dir, 'dist', 'k8s-ha.blob.id'), `${node}\n${join(ROOT, 'dist', 'k8s-ha.blob')}\n${flags}\n`);
  const moved = launch(['--version'], {}, { bin });
  t.true(viaBundle(moved), `a blob built elsewhere is not used: ${moved.trace}`);
  t.is(moved.stdout, `${VERSION}\n`);
  writeFileSync(join(dir, 'dist', 'k8s-ha.blob.id'), `/bin/sh\n${join(dir, 'dist', 'k8s-ha.blob')}\n${flags}\n`);
  const other = launch(['--version'], {}, { bin });
  t.true(viaBundle(other), `a blob of another node is not used: ${other.trace}`);
  t.is(other.stdout, `${VERSION}\n`);
  // An id of an older build, without the flags line: not used (node would refuse the blob).
  writeFileSync(join(dir, 'dist', 'k8s-ha.blob.id'), `${node}\n${join(dir, 'dist', 'k8s-ha.blob')}\n`);
  const old = launch(['--version'], {}, { bin });
  t.true(viaBundle(old), `an id without flags is not used: ${old.trace}`);
  t.is(old.stdout, `${VERSION}\n`);
  writeFileSync(join(dir, 'dist', 'k8s-ha.blob.id'), `${node}\n${join(dir, 'dist', 'k8s-ha.blob')}\n${flags}\n`);
  const fits = launch(['--version'], {}, { bin });
  t.true(viaSnapshot(fits), `the copy's own blob is used: ${fits.trace}`);
  t.is(fits.stdout, `${VERSION}\n`);
});

test('node is looked up on PATH as `command -v` does: empty entries, glob characters, non-executable files skipped', (t) => {
  const dir = testDir(t);
  const notExec = join(dir, 'plain [x]*');
  const linked = join(dir, 'linked ?');
  mkdirSync(notExec);
  mkdirSync(linked);
  writeFileSync(join(notExec, 'node'), '#!/bin/sh\necho not this one\n', { mode: 0o644 });
  symlinkSync(process.execPath, join(linked, 'node'));
  const r = launch(['--version'], { PATH: `:${notExec}::${linked}:/bin:/usr/bin` });
  t.is(r.code, 0, r.stderr);
  t.true(r.trace.includes(`+ exec ${linked}/node --no-rehash-snapshot --snapshot-blob `), `the snapshot, through the node found on PATH: ${r.trace}`);
  t.is(r.stdout, `${VERSION}\n`);
});

test('through a symlink, as npm installs bins, the snapshot is still used', (t) => {
  const dir = testDir(t);
  const link = join(dir, 'k8s-ha');
  symlinkSync(CLI, link);
  const r = launch(['--version'], {}, { bin: link, cwd: dir });
  t.true(viaSnapshot(r), r.trace);
  t.is(r.stdout, `${VERSION}\n`);
});

test('relative symlink chains resolve like npm\'s .bin links; an unreadable link is a clear error', (t) => {
  const dir = testDir(t);
  // dir/pkg -> the package; dir/.bin/k8s-ha -> ../pkg/bin/k8s-ha; dir/k8s-ha -> .bin/k8s-ha
  symlinkSync(ROOT, join(dir, 'pkg'));
  mkdirSync(join(dir, '.bin'));
  symlinkSync('../pkg/bin/k8s-ha', join(dir, '.bin', 'k8s-ha'));
  symlinkSync('.bin/k8s-ha', join(dir, 'k8s-ha'));
  const r = launch(['--version'], {}, { bin: join(dir, 'k8s-ha'), cwd: dir });
  t.true(viaSnapshot(r), r.trace);
  t.is(r.stdout, `${VERSION}\n`);
  // $0 without a slash (`sh k8s-ha` in its directory): the link resolves from the cwd.
  const bare = launch(['--version'], {}, { bin: 'k8s-ha', cwd: dir });
  t.true(viaSnapshot(bare), bare.trace);
  t.is(bare.stdout, `${VERSION}\n`);
  // A readlink that fails (the launcher needs only plain `readlink`, no -f).
  mkdirSync(join(dir, 'fake'));
  writeFileSync(join(dir, 'fake', 'readlink'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const broken = launch(['--version'], { PATH: `${join(dir, 'fake')}:${process.env.PATH ?? ''}` }, { bin: join(dir, 'k8s-ha'), cwd: dir });
  t.is(broken.code, 70);
  t.regex(broken.stderr, /^k8s-ha: cannot resolve the symlink .*\/k8s-ha$/m);
});

test('snapshot and plain bundle write the same files and print the same messages', (t) => {
  const dir = testDir(t);
  const runs = WAYS.map((env, i) => {
    const out = join(dir, `out-${i}`);
    const render = launch(['render', 'profiles/seed.toml', '--out', out, '--secrets', FIXTURE_SECRETS_FILE], env);
    const yaml = launch(['render', 'profiles/example.yaml', '--out', join(out, 'example'), '--secrets', FIXTURE_SECRETS_FILE], env);
    t.is(render.code, 0, render.stderr);
    t.is(yaml.code, 0, yaml.stderr);
    t.true(i === 0 ? viaSnapshot(render) : viaBundle(render), render.trace);
    const others = [
      ['check', 'profiles/example.yaml'],
      ['check', 'fixtures/errors/unknown-key.toml'],
      ['check', '--strict', 'profiles/seed.toml'],
      ['render', '--format', 'nope'],
      ['bogus'],
      [],
      ['--help'],
      ['render', '--help'],
    ].map((args) => launch(args, env)).map((r) => [r.code, r.stdout, r.stderr]);
    return { tree: readTree(out), render: [render.stdout, render.stderr], others };
  });
  t.true(runs[0]!.tree.size >= 18, [...runs[0]!.tree.keys()].join(' '));
  t.deepEqual(runs[0]!.tree, runs[1]!.tree);
  t.deepEqual(runs[0]!.render.map((s) => s.replaceAll('out-0', 'out-N')), runs[1]!.render.map((s) => s.replaceAll('out-1', 'out-N')));
  t.deepEqual(runs[0]!.others, runs[1]!.others);
  t.deepEqual(runs[0]!.others.map((o) => o[0]), [0, 1, 1, 2, 2, 2, 0, 0]);
});
