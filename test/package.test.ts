/**
 * The package as npm publishes it: `npm pack` lists only what runs, and the packed tarball,
 * installed into a new project without network, gives a typed library (the README's TypeScript
 * example compiles against the shipped .d.ts and runs) and a working `k8s-ha` bin.
 *
 * Offline install: the new project's package-lock.json is made from this repository's lock
 * (the packages k8s-ha depends on at run time, plus typescript and @types/node to compile the
 * example) with k8s-ha itself resolved to the tarball, and `npm ci --offline` takes every
 * other package from npm's cache, which the repository's own `npm ci` filled.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, cli } from './helpers/cli.js';
import { readmeBlock } from './helpers/readme.js';
import { requireTool } from './helpers/tools.js';

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}
interface Lock {
  packages: Record<string, LockEntry>;
}

/** `npm pack --dry-run --json`: the files the published package holds. */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
}

test('npm pack ships the bin, the compiled library with its types and the example profiles; no tests, sources, maps or secrets', (t) => {
  const files = packedFiles();
  for (const f of ['bin/k8s-ha', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli.js', 'dist/src/lab/apiserver-main.js', 'profiles/seed.toml', 'package.json', 'README.md']) t.true(files.includes(f), f);
  const unwanted = files.filter((f) => /^(test|fixtures|src|bench|scripts|\.ci)\/|^dist\/(test|bench)\/|\.map$|\.ts$(?<!\.d\.ts)|secrets\.json$|\.tgz$/.test(f));
  t.deepEqual(unwanted, []);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string }>; bin: Record<string, string> };
  t.true(files.includes(pkg.exports['.']!.types.replace(/^\.\//, '')));
  t.true(files.includes(pkg.exports['.']!.import.replace(/^\.\//, '')));
  t.true(files.includes(pkg.bin['k8s-ha']!));
  t.regex(readFileSync(join(ROOT, 'bin', 'k8s-ha'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('the packed tarball installs offline; the README example compiles against its types, runs, and its user-data passes cloud-init schema; the installed bin renders', (t) => {
  if (!requireTool(t, 'cloud-init')) return;
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-pack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  const proj = join(dir, 'project');
  mkdirSync(join(proj, 'profiles'), { recursive: true });

  // package.json and a lock that resolves k8s-ha to the tarball and the rest as this repository does.
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const own = lock.packages['']!;
  const forExample = ['node_modules/typescript', 'node_modules/@types/node', 'node_modules/undici-types'];
  const packages: Record<string, LockEntry> = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || (entry.dev && !forExample.includes(path))) continue;
    const { dev: _d, devOptional: _o, ...rest } = entry;
    packages[path] = rest;
  }
  const resolved = `file:${tarball}`;
  packages['node_modules/k8s-ha'] = {
    version: String(own.version),
    resolved,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    dependencies: own.dependencies,
    bin: own.bin,
    engines: own.engines,
  };
  const dependencies = { 'k8s-ha': resolved, typescript: lock.packages['node_modules/typescript']!.version!, '@types/node': lock.packages['node_modules/@types/node']!.version! };
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'uses-k8s-ha', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(join(proj, 'package-lock.json'), JSON.stringify({ name: 'uses-k8s-ha', lockfileVersion: 3, requires: true, packages: { '': { name: 'uses-k8s-ha', dependencies }, ...packages } }, null, 2));
  const install = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: proj, encoding: 'utf8' });
  t.is(install.status, 0, `npm ci --offline failed:\n${install.stderr}`);

  // The README's TypeScript example, compiled with the shipped types (strict) and run.
  copyFileSync(join(ROOT, 'profiles', 'seed.toml'), join(proj, 'profiles', 'seed.toml'));
  writeFileSync(join(proj, 'example.ts'), readmeBlock('api-example', 'ts'));
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], outDir: 'out' }, files: ['example.ts'] }));
  const tsc = spawnSync(process.execPath, [join(proj, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: proj, encoding: 'utf8' });
  t.is(tsc.status, 0, `the README example does not compile against the shipped types:\n${tsc.stdout}${tsc.stderr}`);
  const run = spawnSync(process.execPath, ['out/example.js'], { cwd: proj, encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^k8s-cp-1 init \d+$/m);
  const schema = spawnSync('cloud-init', ['schema', '--config-file', join(proj, 'k8s-cp-1.user-data')], { encoding: 'utf8' });
  t.is(schema.status, 0, `${schema.stdout}${schema.stderr}`);

  // The installed bin, as npm linked it, and through npx.
  const help = spawnSync(join(proj, 'node_modules', '.bin', 'k8s-ha'), ['--help'], { cwd: proj, encoding: 'utf8' });
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /k8s-ha render/);
  const npx = spawnSync('npx', ['--offline', 'k8s-ha', 'render', 'profiles/seed.toml', '--out', 'rendered'], { cwd: proj, encoding: 'utf8' });
  t.is(npx.status, 0, npx.stderr);
  t.regex(readFileSync(join(proj, 'rendered', 'k8s-cp-2', 'user-data'), 'utf8'), /^#cloud-config\n/);
  // The library and the CLI agree: same profile, same secrets file, same user-data.
  const again = cli(['render', join(proj, 'profiles', 'seed.toml'), '--out', join(dir, 'repo-render'), '--secrets', join(proj, 'profiles', 'seed.secrets.json')]);
  t.is(again.code, 0, again.stderr);
  t.is(readFileSync(join(dir, 'repo-render', 'k8s-cp-2', 'user-data'), 'utf8'), readFileSync(join(proj, 'rendered', 'k8s-cp-2', 'user-data'), 'utf8'));
});
