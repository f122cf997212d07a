/**
 * Reads the files back out of rendered user-data and Ignition, the way cloud-init and
 * Ignition would: `k8s-ha diff` compares an earlier output with a new one by the files on the
 * node, and tests check that both formats put the same files,
 * modes and contents on a node.
 */
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import type { NodeFile } from '../model.js';
import { cloudConfigParts } from './mime.js';

/**
 * Files of a #cloud-config document (write_files: `gz+b64` = base64 then gunzip), or of every
 * part of a k8s-ha multipart in order (as cloud-init appends them). @throws on malformed input
 */
export function decodeCloudInit(userData: string): NodeFile[] {
  const docs = cloudConfigParts(userData).map((p) => YAML.parse(p, { version: '1.1' }) as { write_files?: { path: string; permissions?: string; encoding?: string; content?: string }[] });
  return docs.flatMap((doc) => doc.write_files ?? []).map((w) => {
    const content = w.content ?? '';
    const raw = w.encoding === 'gz+b64' ? gunzipSync(Buffer.from(content, 'base64')).toString('utf8') : content;
    return { path: w.path, mode: parseInt(w.permissions ?? '0644', 8), content: raw };
  });
}

/** Decodes an RFC 2397 data URL (percent-encoded or base64) to bytes. @throws on other URL schemes */
export function decodeDataUrl(source: string): Buffer {
  const m = /^data:([^,]*),(.*)$/s.exec(source);
  if (!m) throw new Error(`not a data URL: ${source.slice(0, 40)}`);
  return m[1]!.endsWith(';base64') ? Buffer.from(m[2]!, 'base64') : Buffer.from(decodeURIComponent(m[2]!), 'utf8');
}

/**
 * Files carried inline (data URLs) in an Ignition config (storage.files; gzip contents
 * gunzipped). Downloads (http(s) sources, e.g. a sysext image) are not part of the result.
 */
export function decodeIgnition(ignition: string): NodeFile[] {
  const cfg = JSON.parse(ignition) as { storage?: { files?: { path: string; mode: number; contents: { source: string; compression?: string } }[] } };
  return (cfg.storage?.files ?? []).filter((f) => f.contents.source.startsWith('data:')).map((f) => {
    const bytes = decodeDataUrl(f.contents.source);
    const raw = f.contents.compression === 'gzip' ? gunzipSync(bytes) : bytes;
    return { path: f.path, mode: f.mode, content: raw.toString('utf8') };
  });
}
