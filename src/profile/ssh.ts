/**
 * SSH access values of a profile: OpenSSH public-key lines and login user names. Keys only:
 * k8s-ha never sets or accepts a password.
 */

/**
 * Public-key types OpenSSH 9 accepts in authorized_keys (sshkey.c `keytypes[]`), without the
 * DSA type, which OpenSSH 9.8 removed, and without certificate types (a host's
 * authorized_keys carries plain keys; certificates go through TrustedUserCAKeys).
 */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

/** What an authorized key must look like, for messages. */
export const SSH_KEY_RULE = `one OpenSSH public-key line: a key type (${SSH_KEY_TYPES.join(', ')}), its base64 key and an optional comment, e.g. "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... me@laptop"`;

/**
 * Why `line` is not a single OpenSSH public-key line (`type base64 [comment]`), or undefined
 * when it is one. The base64 blob must decode to whole SSH strings (uint32 length, then bytes;
 * RFC 4253 section 6.6) of which the first names the same type as the line. No options
 * (`from=`, `command=`), no line breaks or control characters (they would add a line to
 * authorized_keys).
 */
export function sshKeyProblem(line: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(line)) return 'it contains a line break or a control character';
  const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
  if (!m) return 'expected "TYPE BASE64 [COMMENT]" separated by single spaces';
  const [, type, blob] = m as unknown as [string, string, string];
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) return `unknown key type "${type.slice(0, 40)}"`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) return 'the key is not base64';
  // The blob is a sequence of SSH strings: the type, then the key's fields (ed25519: one of
  // 32 bytes; RSA: e, n; ECDSA: curve, point); it must end exactly after the last one.
  const bytes = Buffer.from(blob, 'base64');
  const fields: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = at + 4 <= bytes.length ? bytes.readUInt32BE(at) : -1;
    if (len < 0 || at + 4 + len > bytes.length) return `the base64 key is truncated or damaged (not a whole ${type} key)`;
    fields.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (fields[0]?.toString('latin1') !== type) return `the base64 key does not hold a ${type} key (pasted from another key?)`;
  if (fields.length < 2 || (type === 'ssh-ed25519' && fields[1]!.length !== 32)) return `the base64 key is truncated or damaged (not a whole ${type} key)`;
  return undefined;
}

/** True for a single OpenSSH public-key line ({@link sshKeyProblem} finds nothing). */
export const isSshPublicKey = (line: string): boolean => sshKeyProblem(line) === undefined;

/**
 * A login user name useradd accepts on Debian, Ubuntu, Flatcar and Fedora CoreOS alike
 * (shadow's default NAME_REGEX without upper case and `$`), at most 32 characters, and not
 * `root` (cloud-init's disable_root and sshd's defaults keep root logins off).
 */
export function isLoginName(name: string): boolean {
  return /^[a-z_][a-z0-9_-]{0,31}$/.test(name) && name !== 'root';
}
