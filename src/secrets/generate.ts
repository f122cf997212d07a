/**
 * Generation of the per-cluster secrets that let every node bootstrap without a human:
 * a kubeadm bootstrap token, the certificate key for `kubeadm init --upload-certs`, and the
 * cluster CA that every joiner pins through `caCertHashes`.
 *
 * Randomness comes from node:crypto (CSPRNG). Nothing here reads or writes files; see
 * `store.ts` for the secrets file.
 */
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';

/**
 * Bootstrap token format: `<6 chars id>.<16 chars secret>` over `[a-z0-9]`.
 * Source: kubernetes cluster-bootstrap token/api/types.go `BootstrapTokenPattern`
 * (`\A([a-z0-9]{6})\.([a-z0-9]{16})\z`); kubeadm rejects any other token at unmarshal time.
 */
export const BOOTSTRAP_TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/**
 * Certificate key format: hex of a 32-byte AES key, 64 hex digits (kubeadm
 * validation.go `ValidateCertificateKey`; `kubeadm certs certificate-key` prints lower case).
 */
export const CERTIFICATE_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** `caCertHashes` entry format: `sha256:` + 64 lower-case hex digits (kubeadm pubkeypin.go). */
export const CA_CERT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Subject common name of the cluster CA, the same as kubeadm's own CA (certs.go `KubernetesCA`). */
export const CA_COMMON_NAME = 'kubernetes';

/**
 * Validity of the CA certificate in days: 10 years, as kubeadm's
 * `caCertificateValidityPeriod` default of 87600h (v1beta4 types.go).
 */
export const CA_VALIDITY_DAYS = 3650;

/** The cluster CA as PEM text: certificate (`CERTIFICATE`) and PKCS#8 key (`PRIVATE KEY`). */
export interface ClusterCa {
  certPem: string;
  keyPem: string;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `length` characters drawn uniformly from `[a-z0-9]`. Rejection sampling: only bytes below
 * 252 (= 7 * 36) are used, so `byte % 36` carries no modulo bias.
 */
function randomTokenChars(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += TOKEN_ALPHABET[byte % 36];
    }
  }
  return out;
}

/** A fresh bootstrap token matching {@link BOOTSTRAP_TOKEN_PATTERN}, e.g. `abcdef.0123456789abcdef`. */
export function generateBootstrapToken(): string {
  return `${randomTokenChars(6)}.${randomTokenChars(16)}`;
}

/** A fresh certificate key: hex of 32 random bytes (64 lower-case hex digits). */
export function generateCertificateKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * A fresh cluster CA like the one `kubeadm init` would create: RSA-2048 key (kubeadm's default
 * `encryptionAlgorithm`), self-signed SHA-256 certificate, subject and issuer `CN=kubernetes`,
 * basicConstraints CA:TRUE (critical), keyUsage digitalSignature, keyCertSign, cRLSign
 * (critical), a subject key identifier, a random positive 128-bit serial, valid from `now` for
 * {@link CA_VALIDITY_DAYS} days.
 *
 * @param now start of validity (default: the current time); the CA is generated once per
 *   cluster and then reused, so outputs stay deterministic.
 */
export async function generateCa(now: Date = new Date()): Promise<ClusterCa> {
  await import('reflect-metadata'); // @peculiar/x509 (via tsyringe) needs a Reflect polyfill loaded first
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and exactly 16 bytes long in DER
  const notAfter = new Date(now.getTime() + CA_VALIDITY_DAYS * 86_400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: `CN=${CA_COMMON_NAME}`,
      notBefore: now,
      notAfter,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: withNewline(cert.toString('pem')), keyPem: withNewline(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')) };
}

/** PEM text normalised to `\n` line ends with exactly one final newline. */
function withNewline(pem: string): string {
  return `${pem.replace(/\r\n/g, '\n').trimEnd()}\n`;
}

/**
 * The value kubeadm pins a CA with (`discovery.bootstrapToken.caCertHashes`,
 * `--discovery-token-ca-cert-hash`): `sha256:` + lower-case hex SHA-256 of the certificate's
 * DER SubjectPublicKeyInfo (kubeadm pubkeypin.go `Hash`).
 *
 * @param cert the certificate, as PEM or already parsed (a caller that has parsed it).
 * @throws Error when `cert` is not a parseable certificate.
 */
export function caCertHash(cert: string | X509Certificate): string {
  const spki = (typeof cert === 'string' ? new X509Certificate(cert) : cert).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
