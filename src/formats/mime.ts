/**
 * cloud-init user-data as a MIME multipart (RFC 2046 `multipart/mixed`), the way cloud-init
 * itself combines several cloud-config documents: each `text/cloud-config` part is merged into
 * the parts before it with the mergers its `Merge-Type` header names
 * (cloudinit/handlers/cloud_config.py `_extract_mergers`; docs "Merging User-Data Sections").
 * The user's parts come first, k8s-ha's last; with {@link APPEND_MERGE} every list (runcmd,
 * bootcmd, write_files, packages, ...) keeps the earlier parts' items first and appends the
 * later part's, and a key set in an earlier part keeps its value. So the user's commands run
 * before k8s-ha's bootstrap.
 */
import { createHash } from 'node:crypto';

/**
 * The mergers of every part: lists appended, dictionaries merged key by key without replacing
 * an earlier value, lists inside them appended too, strings kept (cloudinit/mergers/m_list.py,
 * m_dict.py, m_str.py).
 */
export const APPEND_MERGE = 'list(append)+dict(no_replace,recurse_list)+str()';

/** One `text/cloud-config` part. */
export interface CloudConfigPart {
  /** Shown in the part's Content-Disposition and in cloud-init's logs; [A-Za-z0-9._-] kept, the rest becomes `_`. */
  filename: string;
  /** The `#cloud-config` document. */
  text: string;
}

/**
 * The multipart document, byte-for-byte deterministic: the boundary is derived from the parts
 * (and checked not to occur in them). An ASCII part is sent as is (7bit); any other is base64
 * with charset utf-8, as Python's MIMEText (and `cloud-init devel make-mime`) would send it,
 * because cloud-init decodes parts by their Content-Transfer-Encoding.
 */
export function cloudConfigMultipart(parts: CloudConfigPart[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p.text).update('\0');
  const boundary = `==k8s-ha-${hash.digest('hex').slice(0, 32)}==`;
  if (parts.some((p) => p.text.includes(boundary))) throw new Error('MIME boundary occurs in a part (SHA-256 collision?)');
  const out = [`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const p of parts) {
    // eslint-disable-next-line no-control-regex
    const ascii = /^[\x00-\x7f]*$/.test(p.text);
    const name = p.filename.replace(/[^A-Za-z0-9._-]/g, '_');
    out.push(
      `--${boundary}`,
      `Content-Type: text/cloud-config; charset="${ascii ? 'us-ascii' : 'utf-8'}"`,
      'MIME-Version: 1.0',
      `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
      `Content-Disposition: attachment; filename="${name}"`,
      `Merge-Type: ${APPEND_MERGE}`,
      '',
      ascii ? p.text.replace(/\n$/, '') : (Buffer.from(p.text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\n'),
    );
  }
  out.push(`--${boundary}--`, '');
  return out.join('\n');
}

/**
 * The `text/cloud-config` parts of a multipart made by {@link cloudConfigMultipart}, decoded,
 * in order; a plain `#cloud-config` document is returned as its only part.
 * @throws Error for a multipart without a boundary.
 */
export function cloudConfigParts(userData: string): string[] {
  if (userData.startsWith('#cloud-config')) return [userData];
  const m = /^Content-Type: multipart\/mixed; boundary="([^"]+)"/.exec(userData);
  if (!m) throw new Error('user-data is neither #cloud-config nor a multipart made by k8s-ha');
  const sections = userData.split(`--${m[1]}`).slice(1, -1);
  return sections.map((s) => {
    const [head, ...body] = s.replace(/^\n/, '').split('\n\n');
    const text = body.join('\n\n').replace(/\n$/, '');
    return /Content-Transfer-Encoding: base64/.test(head ?? '') ? Buffer.from(text, 'base64').toString('utf8') : `${text}\n`;
  });
}
