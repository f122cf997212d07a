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
import * as z from 'zod/mini';
import { error, ProblemError, type Problem } from '../profile/errors.js';
import { locator } from '../profile/source-map.js';
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

/**
 * The error for an unreadable or invalid secrets file: every problem found (code E060, the
 * field as path, line:col in the file's JSON where it has one); the file itself is `(file)`.
 */
const secretsError = (file: string, problems: Problem[], text?: string) => new ProblemError(file, problems, text, '(file)');

/** The hint every invalid-secrets problem carries unless it has its own. */
const SECRETS_HINT = 'fix the file, or make new secrets with --rotate (a new CA means a new cluster)';

/** One E060 problem at `field` of a secrets file. */
const secretsProblem = (field: string | undefined, message: string, hint = SECRETS_HINT): Problem => error('E_SECRETS', field === undefined ? [] : [field], message, hint);

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

/** A string field of the secrets file matching `pattern`, described as `shape` when it does not. */
const matching = (pattern: RegExp, shape: string) => z.string().check(z.refine((v) => pattern.test(v), { error: `expected ${shape}` }));

/**
 * The secrets file, format version 1: exactly these keys. The CA pair is checked after the
 * shape (a certificate, a CA, and the key that belongs to it), in {@link parseSecrets}.
 */
const secretsFileSchema = z.strictObject({
  version: z.literal(SECRETS_FILE_VERSION, { error: `expected ${SECRETS_FILE_VERSION}` }),
  bootstrapToken: matching(BOOTSTRAP_TOKEN_PATTERN, 'a kubeadm bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (kubeadm validation.go ValidateToken)'),
  certificateKey: matching(CERTIFICATE_KEY_PATTERN, '64 lower-case hex digits, a 32-byte AES key (kubeadm validation.go ValidateCertificateKey)'),
  caCert: z.string(),
  caKey: z.string(),
});

/**
 * Parses and validates secrets file text.
 * Checks: a JSON object with exactly the keys of format version 1 (zod schema above); token
 * and certificate key formats; `caCert` a CA certificate (basicConstraints CA:TRUE); `caKey` a
 * private key that belongs to `caCert`. Every problem of the shape is reported at once.
 *
 * @param file the file name, used in problems only.
 * @throws ProblemError naming `file`, each offending field, and its line:col in the text.
 */
export function parseSecrets(text: string, file: string): ClusterSecrets {
  const fail = (problems: Problem[]): never => {
    const locate = locator(text, 'yaml'); // JSON is YAML: the same node ranges
    for (const p of problems) if (p.path.length > 0) Object.assign(p, locate(p.path, p.message.startsWith('unknown field') ? 'key' : 'value'));
    throw secretsError(file, problems, text);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail([secretsProblem(undefined, `expected JSON (${(err as Error).message})`)]);
  }
  const parsed = secretsFileSchema.safeParse(data);
  if (!parsed.success) {
    fail(parsed.error.issues.flatMap((i): Problem[] => {
      if (i.code === 'unrecognized_keys') return i.keys.map((k) => secretsProblem(k, `unknown field (expected only ${Object.keys(secretsFileSchema.shape).join(', ')})`));
      const field = i.path[0] === undefined ? undefined : String(i.path[0]);
      const value = field === undefined ? data : (data as Record<string, unknown>)[field];
      if (i.code === 'invalid_type') return [secretsProblem(field, field === undefined ? 'expected a JSON object' : `expected ${i.expected === 'string' ? 'a string' : i.expected}, got ${JSON.stringify(value) ?? 'nothing'}`)];
      if (field === 'version') return [secretsProblem(field, `expected ${SECRETS_FILE_VERSION}, got ${JSON.stringify(value) ?? 'nothing'}`)];
      return [secretsProblem(field, i.message)];
    }));
  }
  const { bootstrapToken, certificateKey, caCert: certPem, caKey: keyPem } = parsed.data!;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    return fail([secretsProblem('caCert', `expected a PEM certificate (${(err as Error).message})`)]);
  }
  if (!cert.ca) fail([secretsProblem('caCert', 'expected a CA certificate (basicConstraints CA:TRUE)')]);
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    return fail([secretsProblem('caKey', `expected a PEM private key (${(err as Error).message})`)]);
  }
  if (!matches) fail([secretsProblem('caKey', 'expected the private key of caCert, got another key')]);
  return { bootstrapToken, certificateKey, ca: { certPem, keyPem }, caCertHash: caCertHash(cert) };
}

/**
 * Reads and validates a secrets file.
 * @throws ProblemError when it cannot be read or is invalid.
 */
export async function loadSecrets(file: string): Promise<ClusterSecrets> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw secretsError(file, [secretsProblem(undefined, `cannot read the secrets file (${(err as Error).message})`, 'check --secrets')]);
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
 * @throws ProblemError for an invalid existing file; fs errors when it cannot be written.
 */
export async function resolveSecrets(opts: { profilePath: string; secretsFile?: string; rotate?: boolean }): Promise<ResolvedSecrets> {
  const file = opts.secretsFile ?? secretsPathFor(opts.profilePath);
  let mode: number | undefined;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT') throw secretsError(file, [secretsProblem(undefined, `cannot stat the secrets file (${err.message})`, 'check --secrets')]);
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
