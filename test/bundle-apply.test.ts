import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCloudInit } from '../src/formats/cloud-init.js';
import { renderIgnition } from '../src/formats/ignition.js';
import type { NodePayload } from '../src/model.js';
import { labPlan, testDir } from './helpers/bundle-run.js';
import { requireTool } from './helpers/tools.js';

/** Ignition 2.14 as Debian ships it (inside the dracut module). */
const IGNITION = '/usr/lib/dracut/modules.d/30ignition/ignition';

/** A payload whose large file the formats must compress (gz+b64 / gzip data URL). */
const payload = (root: string): NodePayload => ({
  files: [
    { path: `${root}/big.yaml`, mode: 0o600, content: Array.from({ length: 600 }, (_, i) => `line ${i}: kube-apiserver --flag-${i % 7}=value\n`).join(''), secret: true },
    { path: `${root}/small.conf`, mode: 0o644, content: 'small: true\n' },
  ],
  runcmd: [],
  units: [],
});

test('gz+b64 write_files round-trip through the real cloud-init write_files module', (t) => {
  if (!requireTool(t, 'cloud-init') || !requireTool(t, 'unshare')) return;
  const dir = testDir(t);
  const files = payload('/mnt/k8s-ha-roundtrip');
  const userData = renderCloudInit(labPlan().nodes[0]!, files);
  t.regex(userData, /encoding: gz\+b64/, 'the large file is compressed');
  writeFileSync(join(dir, 'user-data'), userData);
  // A private mount namespace with tmpfs over every directory cloud-init writes to: the
  // machine's own /mnt, /var/lib, /var/log and /run are untouched, and all of it vanishes
  // with the namespace when the shell exits.
  const script = [
    'set -e', 'mount --make-rprivate /',
    'for d in /mnt /var/lib /var/log /run; do mount -t tmpfs tmpfs "$d"; done',
    'cloud-init --file "$1" single --name write_files --frequency always >/dev/null 2>&1',
    'cd /mnt/k8s-ha-roundtrip && for f in big.yaml small.conf; do printf "%s %s " "$f" "$(stat -c %a "$f")"; base64 -w0 "$f"; echo; done',
  ].join('\n');
  const out = execFileSync('unshare', ['-m', 'sh', '-c', script, 'sh', join(dir, 'user-data')], { encoding: 'utf8' });
  const written = Object.fromEntries(out.trim().split('\n').map((line) => {
    const [name, mode, b64] = line.split(' ');
    return [name, { mode, content: Buffer.from(b64 ?? '', 'base64').toString('utf8') }];
  }));
  t.deepEqual(written, {
    'big.yaml': { mode: '600', content: files.files[0]!.content },
    'small.conf': { mode: '644', content: files.files[1]!.content },
  });
});

test('gzip data URLs round-trip through the real Ignition fetch-offline and files stages', (t) => {
  if (!requireTool(t, IGNITION, 'ignition')) return;
  const dir = testDir(t);
  const files = payload('/etc/k8s-ha');
  const config = renderIgnition(files, '3.3.0');
  t.regex(config, /"compression":\s*"gzip"/, 'the large file is a gzip data URL');
  writeFileSync(join(dir, 'config.ign'), config);
  const root = join(dir, 'root');
  const cache = join(dir, 'cache');
  mkdirSync(join(root, 'etc/selinux'), { recursive: true });
  mkdirSync(cache);
  writeFileSync(join(root, 'etc/selinux/config'), 'SELINUX=disabled\nSELINUXTYPE=targeted\n');
  // Stub for SELinux relabelling, which Ignition runs after writing files (policycoreutils'
  // setfiles; relabelling is irrelevant to the file contents checked here).
  const stubs = join(dir, 'stubs');
  mkdirSync(stubs);
  writeFileSync(join(stubs, 'setfiles'), '#!/bin/sh\ncat >/dev/null\n');
  chmodSync(join(stubs, 'setfiles'), 0o755);
  const common = ['-platform', 'file', '-config-cache', join(cache, 'config.json'), '-state-file', join(cache, 'state'), '-log-to-stdout'];
  const env = { ...process.env, PATH: `${stubs}:${process.env.PATH}`, IGNITION_CONFIG_FILE: join(dir, 'config.ign') };
  execFileSync(IGNITION, ['-stage', 'fetch-offline', '-neednet', join(cache, 'neednet'), ...common], { env, stdio: 'pipe' });
  execFileSync(IGNITION, ['-stage', 'files', '-root', root, ...common], { env, stdio: 'pipe' });
  for (const file of files.files) {
    const path = join(root, file.path);
    t.is(readFileSync(path, 'utf8'), file.content, file.path);
    t.is(statSync(path).mode & 0o777, file.mode, file.path);
  }
});
