// Builds what bin/k8s-ha runs (`npm run build`, after tsc):
//
// 1. dist/k8s-ha.blob: a V8 startup snapshot of the CLI (src/snapshot/entry.ts). node starts
//    from it with yargs, zod, yaml, the TOML parser and the render code already loaded and
//    compiled. A blob only loads into the node binary that built it (and with the same V8
//    flags), so dist/k8s-ha.blob.id records that binary (line 1), the blob's own path
//    (line 2) and the V8 flags it was built with (line 3); bin/k8s-ha uses the blob only when
//    the first two still match, and passes the flags.
// 2. dist/k8s-ha.cjs: the same CLI as one CommonJS bundle (src/main.ts), what bin/k8s-ha runs
//    otherwise, through bin/k8s-ha.cjs and v8-compile-cache (CommonJS lets it reuse V8's
//    compiled code between runs; Node 20 has no module compile cache of its own).
// 3. dist/apiserver-main.js, dist/probe-main.js: the lab's helper programs.
//
// import.meta.url (used by yargs and the lab) is mapped to the bundle's own file URL.
// K8S_HA_DEBUG_BUILD=1 keeps names and whitespace, for readable CPU profiles
// (`node --cpu-prof --no-rehash-snapshot --snapshot-blob dist/k8s-ha.blob -- render ...`).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const VERSION = JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version);

/** Options every bundle shares. */
const common = { bundle: true, platform: 'node', target: 'node20', minify: !process.env.K8S_HA_DEBUG_BUILD, keepNames: !!process.env.K8S_HA_DEBUG_BUILD, legalComments: 'none', logLevel: 'warning' };
/** A CommonJS bundle of the CLI from `entry` to `outfile`, with the version put in. */
const cli = (entry, outfile, extra = {}) =>
  build({
    ...common,
    entryPoints: [entry],
    outfile,
    format: 'cjs',
    ...extra,
    define: { 'import.meta.url': '__k8s_ha_import_meta_url', __K8S_HA_VERSION__: VERSION, ...extra.define },
    banner: { js: "const __k8s_ha_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  });

await cli('src/main.ts', 'dist/k8s-ha.cjs');

// v8-compile-cache compiles the bundle with vm.Script, which has no dynamic import() hook:
// an import() left in the output (of a Node builtin, say) would fail at run time.
const left = readFileSync('dist/k8s-ha.cjs', 'utf8').match(/\bimport\(["'][^"']+["']\)/g);
if (left) {
  console.error(`scripts/bundle.mjs: dynamic import() left in dist/k8s-ha.cjs: ${[...new Set(left)].join(', ')}; import these statically`);
  process.exit(1);
}

// The lab starts two helper programs next to the code that spawns them (src/lab/apiserver.ts
// and probe.ts resolve ./apiserver-main.js and ./probe-main.js from import.meta.url, which
// is dist/k8s-ha.cjs or dist/k8s-ha-snapshot.cjs here): ship them beside the bundles.
await build({
  ...common,
  entryPoints: { 'apiserver-main': 'src/lab/apiserver-main.ts', 'probe-main': 'src/lab/probe-main.ts' },
  outdir: 'dist',
  format: 'esm',
});

// The snapshot: the CLI bundled once more with Intl.Segmenter made lazy (an ICU object cannot
// be serialised, see src/snapshot/lazy-segmenter.ts), then run by `node --build-snapshot`.
// __filename in it is the snapshot bundle's path at build time, right while dist/ stays where
// it is, which the launcher checks.
//
// Libraries that only the bundle and secrets-generation paths load (tar archives, the CA
// certificate) are left out of it: the snapshot would carry their ~400 KB of source, which
// every run deserialises and checksums (measured: blob 6.8 -> 6.4 MB, a render ~1.5 ms
// faster). At run time they load from node_modules, next to dist/, on first use.
const FROM_DISK = /^(@peculiar\/x509|reflect-metadata|tar-stream)$/;
const fromDisk = {
  name: 'from-disk',
  setup(b) {
    b.onResolve({ filter: FROM_DISK }, (a) => ({ path: a.path, namespace: 'from-disk' }));
    b.onLoad({ filter: /.*/, namespace: 'from-disk' }, (a) => ({
      // createRequire: the snapshot's own `require` loads Node's built-in modules only.
      contents: `module.exports = require('node:module').createRequire(__filename)(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};
await cli('src/snapshot/entry.ts', 'dist/k8s-ha-snapshot.cjs', {
  define: { 'Intl.Segmenter': 'LazySegmenter' },
  inject: ['src/snapshot/lazy-segmenter.ts'],
  plugins: [fromDisk],
});
const blob = resolve('dist/k8s-ha.blob');
rmSync(blob, { force: true });
rmSync(`${blob}.id`, { force: true });
// Without NODE_OPTIONS: V8 flags from it would be baked into the blob, and the launcher only
// uses the blob when NODE_OPTIONS is empty, so node would refuse it on every run.
const { NODE_OPTIONS: _ignored, ...env } = process.env;
// --no-rehash-snapshot: V8 rehashes every string and hash table of a snapshot at load to
// re-randomise the hash seed; skipping it saves ~5 ms a run (`node --profile-deserialization`:
// isolate 10.5-14.6 ms -> 7.8-8.2 ms, context 5.2-7.9 ms -> 4.3-4.4 ms; `npm run bench`
// render 103.6 -> 98.2 ms). The seed stays the one V8 drew at random when this build ran, so
// it differs per install; the CLI hashes only the user's own profile and secrets files.
const V8_FLAGS = ['--no-rehash-snapshot'];
// The warm-up reads a real secrets file (src/snapshot/entry.ts): the test fixture, whose CA
// is public test material; without it (not in a checkout) the warm-up uses placeholders.
const warmSecrets = resolve('fixtures/secrets/test.secrets.json');
const snap = spawnSync(process.execPath, [...V8_FLAGS, '--snapshot-blob', blob, '--build-snapshot', 'dist/k8s-ha-snapshot.cjs'], {
  encoding: 'utf8',
  env: existsSync(warmSecrets) ? { ...env, K8S_HA_WARM_SECRETS: warmSecrets } : env,
});
// Node warns that node:module (yargs loads it) is "not yet fully verified" in snapshots; the
// tests run the CLI both ways and compare (test/launcher.test.ts). Any other output fails.
const noise = /^\(node:\d+\) Warning: It's not yet fully verified whether built-in module "node:module"|^It may still work|^To request support|^\(Use `node --trace-warnings/;
const stderr = snap.stderr.split('\n').filter((l) => l !== '' && !noise.test(l)).join('\n');
if (snap.status !== 0 || stderr !== '') {
  console.error(`scripts/bundle.mjs: node --build-snapshot failed (exit ${snap.status ?? snap.signal}):\n${stderr.slice(0, 4000)}`);
  process.exit(1);
}
writeFileSync(`${blob}.id`, `${realpathSync(process.execPath)}\n${blob}\n${V8_FLAGS.join(' ')}\n`);
