/**
 * The cluster secrets file: generated once per cluster, then reused by every render so that
 * outputs stay byte-identical and nodes that already booted stay consistent with new ones.
 *
 * Location: `<profile dir>/<profile name without extension>.secrets.json` unless `--secrets FILE`
 * names another. Written 0600 from creation (temp file opened with mode 0o600, then renamed over
 * the target), so the secrets are never readable by others, not even briefly.
 *
 * File format (JSON, keys in this order, two-space indent, final newline):
 * `{ "version": 1, "bootstrapToken": "abcdef.0123456789abcdef", "certificateKey": "<64 hex>",
 *    "caCert": "<PEM>", "caKey": "<PEM PKCS#8>" }`
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BOOTSTRAP_TOKEN_PATTERN,
  CERTIFICATE_KEY_PATTERN,
  type ClusterCa,
  caCertHash,
  generateBootstrapToken,
  generateCa,
  generateCertificateKey,
} from './generate.js';

/** Everything secret a cluster needs to bootstrap itself (see the module comment for sources). */
export interface ClusterSecrets {
  /** kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
  bootstrapToken: string;
  /** Key that encrypts the control-plane certificates uploaded by `--upload-certs`: 64 hex digits. */
  certificateKey: string;
  /** The cluster CA, installed at /etc/kubernetes/pki/ca.{crt,key} on the init node. */
  ca: ClusterCa;
  /** `sha256:<hex>` pin of the CA's public key (derived from `ca.certPem`, never stored). */
  caCertHash: string;
}

/** Version of the secrets file format written by {@link saveSecrets}. */
export const SECRETS_FILE_VERSION = 1;

/** Raised for an unreadable or invalid secrets file; the message names the file and the field. */
export class SecretsFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    expected: string,
    hint = 'fix the file, or make new secrets with --rotate (a new CA means a new cluster)',
  ) {
    super(`${file}: ${field}: ${expected}; ${hint}`);
    this.name = 'SecretsFileError';
  }
}

/**
 * Default secrets file of a profile: same directory, the profile's file name with its last
 * extension replaced by `.secrets.json` (`profiles/lab.toml` -> `profiles/lab.secrets.json`).
 */
export function secretsPathFor(profilePath: string): string {
  const parsed = path.parse(profilePath);
  return path.join(parsed.dir, `${parsed.name}.secrets.json`);
}

/** Fresh secrets for a new cluster (token, certificate key, CA valid from `now`). */
export async function generateSecrets(now?: Date): Promise<ClusterSecrets> {
  const ca = await generateCa(now);
  return {
    bootstrapToken: generateBootstrapToken(),
    certificateKey: generateCertificateKey(),
    ca,
    caCertHash: caCertHash(ca.certPem),
  };
}

/** The file text for `secrets` (deterministic: fixed key order, final newline). */
export function serialiseSecrets(secrets: ClusterSecrets): string {
  const file = {
    version: SECRETS_FILE_VERSION,
    bootstrapToken: secrets.bootstrapToken,
    certificateKey: secrets.certificateKey,
    caCert: secrets.ca.certPem,
    caKey: secrets.ca.keyPem,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

const FILE_KEYS = ['version', 'bootstrapToken', 'certificateKey', 'caCert', 'caKey'] as const;

/**
 * Parses and validates secrets file text.
 * Checks: JSON object with exactly the keys of format version 1; token and certificate key
 * formats; `caCert` a CA certificate (basicConstraints CA:TRUE); `caKey` a private key that
 * belongs to `caCert`.
 *
 * @param file the file name, used in error messages only.
 * @throws SecretsFileError naming `file` and the offending field.
 */
export function parseSecrets(text: string, file: string): ClusterSecrets {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SecretsFileError(file, '(file)', `expected JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SecretsFileError(file, '(file)', 'expected a JSON object');
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj).sort()) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new SecretsFileError(file, key, `unknown field (expected only ${FILE_KEYS.join(', ')})`);
    }
  }
  if (obj.version !== SECRETS_FILE_VERSION) {
    throw new SecretsFileError(file, 'version', `expected ${SECRETS_FILE_VERSION}, got ${JSON.stringify(obj.version)}`);
  }
  const str = (key: (typeof FILE_KEYS)[number], pattern?: RegExp, shape?: string): string => {
    const value = obj[key];
    if (typeof value !== 'string') throw new SecretsFileError(file, key, `expected a string, got ${JSON.stringify(value)}`);
    if (pattern && !pattern.test(value)) throw new SecretsFileError(file, key, `expected ${shape}`);
    return value;
  };
  const bootstrapToken = str('bootstrapToken', BOOTSTRAP_TOKEN_PATTERN, 'a kubeadm bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (kubeadm validation.go ValidateToken)');
  const certificateKey = str('certificateKey', CERTIFICATE_KEY_PATTERN, '64 lower-case hex digits, a 32-byte AES key (kubeadm validation.go ValidateCertificateKey)');
  const certPem = str('caCert');
  const keyPem = str('caKey');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new SecretsFileError(file, 'caCert', `expected a PEM certificate (${(err as Error).message})`);
  }
  if (!cert.ca) throw new SecretsFileError(file, 'caCert', 'expected a CA certificate (basicConstraints CA:TRUE)');
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
      throw new SecretsFileError(file, 'caKey', 'expected the private key of caCert, got another key');
    }
  } catch (err) {
    if (err instanceof SecretsFileError) throw err;
    throw new SecretsFileError(file, 'caKey', `expected a PEM private key (${(err as Error).message})`);
  }
  return { bootstrapToken, certificateKey, ca: { certPem, keyPem }, caCertHash: caCertHash(cert) };
}

/**
 * Reads and validates a secrets file.
 * @throws SecretsFileError when it cannot be read or is invalid.
 */
export async function loadSecrets(file: string): Promise<ClusterSecrets> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretsFileError(file, '(file)', `cannot read (${(err as Error).message})`, 'check --secrets');
  }
  return parseSecrets(text, file);
}

/**
 * Writes `secrets` to `file` atomically with mode 0600: a temp file in the same directory is
 * created with O_EXCL and mode 0o600, written, fsynced, then renamed over `file`.
 * @throws the underlying fs error (e.g. ENOENT when the directory does not exist).
 */
export async function saveSecrets(file: string, secrets: ClusterSecrets): Promise<void> {
  const { writeFileAtomic } = await import('../sinks/atomic.js');
  await writeFileAtomic(file, serialiseSecrets(secrets), 0o600);
}

/** A risk found in the secrets file, reported like a profile warning (code from profile/errors.ts). */
export interface SecretsWarning {
  code: 'W_SECRET_FILE_MODE';
  message: string;
  hint: string;
}

/** Result of {@link resolveSecrets}. */
export interface ResolvedSecrets {
  secrets: ClusterSecrets;
  /** The secrets file used. */
  file: string;
  /** `loaded` from an existing file, `created` because none existed, `rotated` on request. */
  origin: 'loaded' | 'created' | 'rotated';
  /** Risks worth printing, e.g. a secrets file readable by group or others (W108). */
  warnings: SecretsWarning[];
}

/**
 * The secrets of the cluster described by the profile at `profilePath`: loads the secrets file
 * (`secretsFile`, else {@link secretsPathFor}), or generates and saves new secrets when the
 * file does not exist or `rotate` is true.
 * @throws SecretsFileError for an invalid existing file; fs errors when it cannot be written.
 */
export async function resolveSecrets(opts: { profilePath: string; secretsFile?: string; rotate?: boolean }): Promise<ResolvedSecrets> {
  const file = opts.secretsFile ?? secretsPathFor(opts.profilePath);
  let mode: number | undefined;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT') throw new SecretsFileError(file, '(file)', `cannot stat (${err.message})`, 'check --secrets');
  }
  if (mode === undefined || opts.rotate) {
    const secrets = await generateSecrets();
    await saveSecrets(file, secrets);
    return { secrets, file, origin: mode === undefined ? 'created' : 'rotated', warnings: [] };
  }
  const warnings =
    mode & 0o077
      ? [{ code: 'W_SECRET_FILE_MODE' as const, message: `${file} is mode ${mode.toString(8).padStart(4, '0')}: it holds cluster secrets, readable by group or others`, hint: `chmod 600 ${file}` }]
      : [];
  return { secrets: await loadSecrets(file), file, origin: 'loaded', warnings };
}
