/**
 * Fixtures for the SSH-access and user-content tests: public keys (public halves only, made
 * with ssh-keygen for these tests), a profile that uses them, and real cloud-init's own merge
 * of a multipart user-data.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ROOT } from './cli.js';
import { run } from './tools.js';

export const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO15j/11JVPzLIv/xJtZ799y5kuoK/jAN3Zc0DDK4Zz5 test-ed25519@k8s-ha';
export const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOQCIus8Z6qBu/xlDbu0jhKOUt09fxyv0dZxcwYWXMQOpWRlTfr+5oqOnQZ7AkHC7MMDRXrvbSaumIHC/3TR+tE= test-ecdsa@k8s-ha';

/** The user's cloud-config of the tests: a file, a bootcmd and a runcmd marker (logged with tag k8s-ha-user). */
export const USER_CLOUD_CONFIG = `#cloud-config
# the user's own cloud-config (test fixture)
write_files:
  - path: /etc/k8s-ha-user/hello.txt
    permissions: "0640"
    content: |
      hello from the user's cloud-config
bootcmd:
  - [sh, -c, "echo user-bootcmd >> /run/k8s-ha-user-order"]
runcmd:
  - [sh, -c, "echo user-runcmd >> /run/k8s-ha-user-order; logger -t k8s-ha-user user-runcmd"]
`;

/** The user's Ignition config of the tests: a file and a unit. */
export const USER_IGNITION = `${JSON.stringify({
  ignition: { version: '3.3.0' },
  storage: { files: [{ path: '/etc/k8s-ha-user/ignition.txt', mode: 420, overwrite: true, contents: { source: 'data:,hello%20from%20the%20user%27s%20Ignition%0A' } }] },
  systemd: { units: [{ name: 'k8s-ha-user.service', enabled: true, contents: '[Unit]\nDescription=user unit\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "echo user-unit > /run/k8s-ha-user-unit"\n\n[Install]\nWantedBy=multi-user.target\n' }] },
}, null, 2)}\n`;

/**
 * Writes the seed profile plus `extra` TOML (appended) into `dir` as p.toml, with the user
 * files above as extra.yaml and extra.ign; returns the profile's path.
 */
export function seedProfileWith(dir: string, extra: string, files: Record<string, string> = { 'extra.yaml': USER_CLOUD_CONFIG, 'extra.ign': USER_IGNITION }): string {
  const base = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'p.toml');
  writeFileSync(file, `${base}\n${extra}\n`);
  return file;
}

/**
 * Merges a user-data file the way cloud-init does at boot, with cloud-init's own code
 * (UserDataProcessor + CloudConfigPartHandler, Debian's cloud-init 22.4), and returns the
 * resulting cloud-config as JSON.
 * @throws Error when cloud-init's Python modules are missing or the merge fails.
 */
export function cloudInitMerge(dir: string, userData: string): Record<string, unknown> {
  const file = join(dir, 'merge-user-data');
  writeFileSync(file, userData);
  const script = [
    'import json, sys, tempfile',
    'from cloudinit import handlers, helpers, user_data',
    'from cloudinit.handlers.cloud_config import CloudConfigPartHandler',
    "paths = helpers.Paths({'cloud_dir': tempfile.mkdtemp()})",
    'msg = user_data.UserDataProcessor(paths).process(open(sys.argv[1]).read())',
    'h = CloudConfigPartHandler(paths)',
    'h.handle_part(None, handlers.CONTENT_START, None, None, None, None)',
    'for part in msg.walk():',
    "    if part.get_content_maintype() == 'multipart': continue",
    '    h.handle_part(None, part.get_content_type(), part.get_filename(), part.get_payload(decode=True).decode(), None, dict(part.items()))',
    'print(json.dumps(h.cloud_buf))',
  ].join('\n');
  const r = run('/usr/bin/python3', ['-c', script, file]);
  if (r.code !== 0) throw new Error(`cloud-init's merge failed (apt-get install -y cloud-init): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
