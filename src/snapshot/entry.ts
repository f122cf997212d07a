/**
 * Entry point of the CLI's V8 startup snapshot (dist/k8s-ha.blob, built by scripts/bundle.mjs
 * with `node --no-rehash-snapshot --snapshot-blob dist/k8s-ha.blob --build-snapshot
 * dist/k8s-ha-snapshot.cjs`, run by bin/k8s-ha as `node --no-rehash-snapshot --snapshot-blob
 * dist/k8s-ha.blob -- ARGS`; the flags are recorded in dist/k8s-ha.blob.id).
 *
 * At build time this module loads yargs, zod, yaml, the TOML parser and every module a render
 * or check needs, then renders the bundled seed profile once with dummy secrets so that V8 has
 * compiled those functions; the resulting heap is saved. A run then starts from that heap
 * instead of loading and compiling ~1 MB of JavaScript: `npm run bench` measures the gain.
 *
 * Rules for code reached from here at build time (Node's user-land snapshot, `node --help`,
 * docs "Startup snapshot API"): no ICU objects (see lazy-segmenter.ts), no open handles, and no
 * module-level state taken from the environment, the clock, the working directory or a random
 * source, since it would be frozen into every run. The lab and the bundle code (child
 * processes, sockets, tar, x509) are not loaded here; they load on first use as usual, and
 * tar-stream and @peculiar/x509 are not even part of the snapshot: they load from node_modules
 * (see scripts/bundle.mjs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import toml from '@iarna/toml';
import YAML from 'yaml';
import { startupSnapshot } from 'node:v8';
import { run, runAndExit } from '../cli.js';
import { budgetReport, userDataBytes } from '../bundle/budget.js';
import { size, table, vipLine } from '../commands/common.js';
import { clearMemos } from '../formats/memo.js';
import { formatProblems } from '../profile/errors.js';
import { parseProfile } from '../profile/load.js';
import { renderCluster } from '../render.js';
import type { Plan } from '../model.js';
import { resolveSecrets, type ClusterSecrets } from '../secrets/store.js';
import { writeTreeAtomic } from '../sinks/atomic.js';

/** Placeholder secrets for the warm-up render: well-formed, never written anywhere. */
const WARM_SECRETS: ClusterSecrets = {
  bootstrapToken: 'abcdef.0123456789abcdef',
  certificateKey: '0'.repeat(64),
  ca: { certPem: '-----BEGIN CERTIFICATE-----\nwarm-up\n-----END CERTIFICATE-----\n', keyPem: '-----BEGIN PRIVATE KEY-----\nwarm-up\n-----END PRIVATE KEY-----\n' },
  caCertHash: `sha256:${'0'.repeat(64)}`,
};

/**
 * The rest of a render's path, after the profile: the secrets file read and checked (the test
 * fixture's, named by scripts/bundle.mjs in K8S_HA_WARM_SECRETS; without it the placeholder
 * secrets), a tree written, replaced and found unchanged in a temporary directory
 * (removed after), and the summary tables. Measured: a render ~1.5 ms faster than with this
 * code left to compile on first use.
 */
async function warmRenderTail(plan: Plan): Promise<void> {
  const file = process.env.K8S_HA_WARM_SECRETS;
  const secrets = file ? (await resolveSecrets({ profilePath: 'profiles/seed.toml', secretsFile: file })).secrets : WARM_SECRETS;
  const rendered = renderCluster(plan, secrets);
  const files = rendered.flatMap((r) => [
    { path: `${r.node.name}/user-data`, content: r.userData, mode: 0o600 },
    { path: `${r.node.name}/meta-data`, content: r.metaData, mode: 0o644 },
    { path: `${r.node.name}/config.ign`, content: r.ignition, mode: 0o600 },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-warm-up-'));
  try {
    // Written, replaced by another tree, then found unchanged: each path a render can take.
    for (const tree of [files, files.slice(1), files.slice(1)]) await writeTreeAtomic(join(dir, 'out'), tree, () => true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sizes = rendered.map((r) => ({ node: r.node.name, bytes: userDataBytes(r.userData) }));
  void (vipLine(plan) + table(sizes.map((s) => [s.node, size(s.bytes)])) + budgetReport(sizes));
}

if (startupSnapshot.isBuildingSnapshot()) {
  // Warm-up: the default profile, as TOML and as the same data in YAML (both parsers and
  // source maps), from text (no env), every node in both formats. Only compiled code stays:
  // the plans are garbage, the caches are emptied. Not profiles/example.yaml: with its DNS
  // controlPlaneEndpoint resolved during the build, Node 20's V8 aborts while serialising
  // ("unreachable code"); runs are not affected, only what the snapshot may hold.
  const file = 'profiles/seed.toml'; // from the repository root, where scripts/bundle.mjs runs
  const text = readFileSync(file, 'utf8');
  let plan: Plan | undefined;
  for (const [name, source] of [[file, text], ['seed.yaml', YAML.stringify(toml.parse(text))]] as const) {
    const loaded = parseProfile(name, source, {});
    plan ??= loaded.plan;
    formatProblems(name, loaded.problems, loaded.text);
    // The texts are rendered when read (render.ts): read them all.
    for (const r of renderCluster(loaded.plan, WARM_SECRETS)) void (r.userData + r.metaData + r.ignition);
  }
  void warmRenderTail(plan!)
    .then(() => {
      clearMemos();
      // The command line as a run parses it (yargs' parser and validation), handlers not run.
      return run(['render', 'profiles/seed.toml', '--out', 'out/warm-up', '--format', 'all'], { parseOnly: true });
    })
    .then(() =>
      // With `--`, node leaves argv as [node, ...ARGS]: the launcher always passes it.
      startupSnapshot.setDeserializeMainFunction(() => runAndExit(process.argv.slice(1))),
    );
}
