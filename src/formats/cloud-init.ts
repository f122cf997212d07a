/**
 * cloud-init user-data (#cloud-config) for one node: write_files for every file, runcmd for
 * first-boot commands. Validated in the tests by the real `cloud-init schema`.
 */
import { gzipSync } from 'node:zlib';
import type { NodeFile, NodePayload, PlanNode } from '../model.js';
import { toYaml } from './yaml.js';

/**
 * Files at least this large (bytes) are written gz+b64 when that is shorter. It was 2 KiB, for
 * the VRRP preflight script (an init node's plain user-data had grown past AWS's 16 KiB limit,
 * 18.7 KiB for profiles/seed.toml). The VIP watch script and the sidecar in the keepalived
 * manifest took the init node to 17.5 KiB again (16.5 KiB at 1 KiB); from 768 bytes the configs
 * and manifests are compressed too: 14.5 KiB. What stays plain: the hostname, the check script
 * and PEM certificates and keys (base64 already: gzip does not shorten them). `k8s-ha diff`
 * shows changed files decoded; one item reads with `base64 -d | gunzip`.
 */
export const COMPRESS_FROM_BYTES = 768;

/** One cloud-init write_files item (cloudinit/config/schemas/schema-cloud-config-v1.json). */
export interface WriteFile {
  path: string;
  owner: string;
  /** Octal string such as "0644" (cloud-init wants a string). */
  permissions: string;
  encoding?: 'gz+b64';
  content: string;
}

/** Octal permission string, e.g. 0o600 -> "0600". */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * gzip at level 9 with Node's zlib: the header has mtime 0 and OS byte 3 (Linux), so the same
 * input always gives the same bytes.
 *
 * The window is the smallest that holds the whole input (see {@link gzipWindowBits}), which
 * gives the same bytes as the default 32 KiB window (test/gzip.test.ts checks it) while zlib
 * allocates and clears less memory per call. That matters in a fresh process, as every CLI run
 * is, where the memory is not yet mapped: 14 files of 0.3-4 KiB took 1.4 ms instead of 1.9 ms
 * (25 runs each, medians); in a warm loop the gain is only 2-18% per call.
 */
export function gzip(content: string | Uint8Array): Buffer {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return gzipSync(bytes, { level: 9, windowBits: gzipWindowBits(bytes.length) });
}

/**
 * The smallest deflate window (log2 of its size: 9-15) that leaves input of `length` bytes
 * unchanged in zlib's output. zlib never matches farther back than the window size minus
 * MIN_LOOKAHEAD (262 bytes: MAX_MATCH + MIN_MATCH + 1, zlib deflate.h `MAX_DIST`), and no
 * match in `length` bytes reaches farther back than `length - 1` (`length - 3`, in fact, as a
 * match is at least 3 bytes: the bound is 2 bytes cautious). Within such a window zlib also
 * never slides it nor wraps its `prev` chains, and the hash size depends on memLevel only.
 * gzip's header does not record the window (RFC 1952), unlike zlib's (RFC 1950). 9 is zlib's
 * smallest window for deflate.
 */
export function gzipWindowBits(length: number): number {
  let bits = 9;
  while (bits < 15 && length - 1 > (1 << bits) - 262) bits++;
  return bits;
}

function writeFile(f: NodeFile): WriteFile {
  const item: WriteFile = { path: f.path, owner: 'root:root', permissions: octal(f.mode), content: f.content };
  if (Buffer.byteLength(f.content) >= COMPRESS_FROM_BYTES) {
    // `gz+b64`: cloud-init base64-decodes, then gunzips (cloudinit/config/cc_write_files.py).
    const packed = gzip(f.content).toString('base64');
    if (packed.length < Buffer.byteLength(f.content)) {
      item.encoding = 'gz+b64';
      item.content = packed;
    }
  }
  return item;
}

/**
 * cloud-config keys for SSH access (cloudinit/config/cc_ssh.py, cc_users_groups.py,
 * cc_set_passwords.py): the keys go to the image's default user (`ssh_authorized_keys`), or
 * to the profile's login user, created with passwordless sudo and a locked password (`users`,
 * keeping the image's `default` user). `ssh_pwauth: false` turns password logins off in sshd:
 * k8s-ha never sets a password.
 */
function sshKeys(node: PlanNode): Record<string, unknown> {
  if (node.ssh === undefined) return {};
  const keys = [...node.ssh.authorizedKeys];
  if (node.ssh.user === undefined) return { ssh_authorized_keys: keys, ssh_pwauth: false };
  return {
    users: ['default', { name: node.ssh.user, lock_passwd: true, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: keys }],
    ssh_pwauth: false,
  };
}

/**
 * Renders the #cloud-config text for a node. Keys keep a fixed, readable order; file contents
 * are literal `|` blocks; YAML 1.1 quoting (cloud-init parses with PyYAML).
 * @param header comment lines placed after `#cloud-config` (no line breaks inside).
 */
export function renderCloudInit(node: PlanNode, payload: NodePayload, header: string[] = []): string {
  const doc: Record<string, unknown> = {
    hostname: node.name,
    ...sshKeys(node),
    write_files: [...payload.files, ...(payload.install?.files ?? [])].map(writeFile),
  };
  const runcmd = [...(payload.install?.runcmd ?? []), ...payload.runcmd];
  if (runcmd.length > 0) doc.runcmd = runcmd;
  const comments = header.map((h) => `# ${h.replace(/[\r\n]/g, ' ')}\n`).join('');
  return `#cloud-config\n${comments}${toYaml(doc, { sortKeys: false })}`;
}
