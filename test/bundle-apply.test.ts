/**
 * Large files round-trip through the real consumers: cloud-init's write_files (gz+b64) and
 * Ignition's files stage (gzip data URLs) write back exactly the payload, with its modes. Uses
 * the lab's appliers (src/lab/apply.ts): cloud-init in a private mount namespace over
 * overlays, Debian's Ignition 2.14 into its own root.
 */
import test from 'ava';
import { join } from 'node:path';
import { renderCloudInit } from '../src/formats/cloud-init.js';
import { renderIgnition } from '../src/formats/ignition.js';
import { IGNITION_BIN, applyCloudInit, applyIgnition, diffTrees, payloadTree, readTree } from '../src/lab/apply.js';
import type { NodePayload } from '../src/model.js';
import { labPlan } from './helpers/bundle-run.js';
import { requireTool, testDir } from './helpers/tools.js';

/** A payload whose large file the formats must compress (gz+b64 / gzip data URL). */
const payload: NodePayload = {
  files: [
    { path: '/etc/k8s-ha/big.yaml', mode: 0o600, content: Array.from({ length: 600 }, (_, i) => `line ${i}: kube-apiserver --flag-${i % 7}=value\n`).join(''), secret: true },
    { path: '/etc/k8s-ha/small.conf', mode: 0o644, content: 'small: true\n' },
  ],
  runcmd: [],
  units: [],
};

test('gz+b64 write_files round-trip through the real cloud-init write_files module', async (t) => {
  if (!requireTool(t, 'cloud-init') || !requireTool(t, 'unshare')) return;
  const dir = testDir(t);
  const userData = renderCloudInit(labPlan().nodes[0]!, payload);
  t.regex(userData, /encoding: gz\+b64/, 'the large file is compressed');
  await applyCloudInit(userData, payload.files, join(dir, 'root'), join(dir, 'work'));
  t.deepEqual(diffTrees('cloud-init', await readTree(join(dir, 'root')), 'payload', payloadTree(payload.files)), []);
});

test('gzip data URLs round-trip through the real Ignition fetch-offline and files stages', async (t) => {
  if (!requireTool(t, IGNITION_BIN, 'ignition')) return;
  const dir = testDir(t);
  const config = renderIgnition(payload, '3.3.0');
  t.regex(config, /"compression":\s*"gzip"/, 'the large file is a gzip data URL');
  await applyIgnition(config, join(dir, 'root'), join(dir, 'work'));
  t.deepEqual(diffTrees('ignition', await readTree(join(dir, 'root')), 'payload', payloadTree(payload.files)), []);
});
