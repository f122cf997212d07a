// Bundles the CLI into one CommonJS file, dist/k8s-ha.cjs, run by bin/k8s-ha.cjs.
// One file instead of ~200 modules saves module resolution and file reads on every start;
// CommonJS lets v8-compile-cache reuse V8's compiled code between runs (Node 20 has no
// module compile cache of its own). import.meta.url (used by yargs) is mapped to the
// bundle's own file URL.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const VERSION = JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version);

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/k8s-ha.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  define: { 'import.meta.url': '__k8s_ha_import_meta_url', __K8S_HA_VERSION__: VERSION },
  banner: { js: "const __k8s_ha_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// The lab starts two helper programs next to the code that spawns them (src/lab/apiserver.ts
// and probe.ts resolve ./apiserver-main.js and ./probe-main.js from import.meta.url, which
// is dist/k8s-ha.cjs here): ship them beside the bundle.
await build({
  entryPoints: { 'apiserver-main': 'src/lab/apiserver-main.ts', 'probe-main': 'src/lab/probe-main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// v8-compile-cache compiles the bundle with vm.Script, which has no dynamic import() hook:
// an import() left in the output (of a Node builtin, say) would fail at run time.
const left = readFileSync('dist/k8s-ha.cjs', 'utf8').match(/\bimport\(["'][^"']+["']\)/g);
if (left) {
  console.error(`scripts/bundle.mjs: dynamic import() left in dist/k8s-ha.cjs: ${[...new Set(left)].join(', ')}; import these statically`);
  process.exit(1);
}
