/**
 * A strict structural checker for kubeadm configuration YAML, driven by the field reference
 * test/fixtures/schemas/kubeadm/fields.json (taken from kubeadm's v1beta3/v1beta4 types.go; see
 * its `source` and NOTES.md next to it). kubeadm itself only warns about unknown fields; this
 * checker fails on them, so a typo in a generated config cannot go unnoticed.
 *
 * fields.json conventions it relies on: `types[T]` maps JSON field names to
 * `{type, pointer?, const?, pattern?, enum?, itemPattern?, itemEnum?, format?, since?}`;
 * embedded (inline) structs are already flattened into their parent; a type is a Go scalar
 * (`string`, `bool`, `int`, `int32`), `metav1.Duration`/`metav1.Time`/`resource.Quantity`
 * (strings), `[]T`, `map[string]T`, or the name of another entry in `types`.
 *
 * Scalars are typed as kubeadm's decoder types them: YAML 1.1 (go-yaml v2, so `yes` is a bool)
 * and no coercion, e.g. `v: 4` where a string is expected is an error, like kubeadm's
 * "cannot unmarshal number into Go struct field ... of type string"
 * (kubernetes/website#15171, kubernetes/website#46756).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMAS } from './cli.js';
import { isIP } from 'node:net';
import { parseAllDocuments } from 'yaml';

/** Path of the field reference the checker reads. */
export const FIELDS_JSON = join(SCHEMAS, 'kubeadm', 'fields.json');

interface FieldSpec {
  type: string;
  pointer?: boolean;
  const?: string;
  pattern?: string;
  enum?: string[];
  itemPattern?: string;
  itemEnum?: string[];
  format?: string;
  since?: string;
}
interface ApiVersionSpec {
  kinds: Record<string, string>;
  types: Record<string, Record<string, FieldSpec>>;
}

/** Component-config documents kubeadm accepts next to its own (not checked field by field). */
export const COMPONENT_CONFIG_API_VERSIONS = ['kubelet.config.k8s.io/v1beta1', 'kubeproxy.config.k8s.io/v1alpha1'];

/** One document of a checked YAML stream. */
export interface KubeadmDocument {
  apiVersion: string;
  kind: string;
  /** false for component configs, which are listed but not checked. */
  checked: boolean;
  /** The document as plain data. */
  data: Record<string, unknown>;
}

/** Result of {@link checkKubeadmYaml}: every error as `docN Kind: field.path: message`. */
export interface KubeadmCheck {
  documents: KubeadmDocument[];
  errors: string[];
}

let specCache: Record<string, ApiVersionSpec> | undefined;
function specs(): Record<string, ApiVersionSpec> {
  return (specCache ??= JSON.parse(readFileSync(FIELDS_JSON, 'utf8')) as Record<string, ApiVersionSpec>);
}

/** `[major, minor]` of a Kubernetes version such as `v1.31.2` or `1.30`. */
export function minorOf(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: ${version}`);
  return [Number(m[1]), Number(m[2])];
}

const atLeast = (v: [number, number], w: [number, number]) => v[0] > w[0] || (v[0] === w[0] && v[1] >= w[1]);

/**
 * The kubeadm config API a given Kubernetes version should be fed (NOTES.md): v1beta4 from
 * v1.31 (enabled there, PR #125029), v1beta3 for v1.22..v1.30.
 * @throws Error for versions below v1.22, which accept neither.
 */
export function expectedKubeadmApiVersion(kubernetesVersion: string): string {
  const v = minorOf(kubernetesVersion);
  if (atLeast(v, [1, 31])) return 'kubeadm.k8s.io/v1beta4';
  if (atLeast(v, [1, 22])) return 'kubeadm.k8s.io/v1beta3';
  throw new Error(`Kubernetes ${kubernetesVersion} predates kubeadm.k8s.io/v1beta3 (v1.22)`);
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Go's net.SplitHostPort, reduced to what kubeadm endpoints use; undefined when it fails. */
function splitHostPort(s: string): [string, string] | undefined {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(s) ?? /^([^:[\]]*):([^:]*)$/.exec(s);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** kubeadm util/endpoint.go ParseHostPort rules; returns a problem or undefined. */
function hostPortProblem(s: string, portRequired: boolean): string | undefined {
  const split = splitHostPort(s);
  if (!split && portRequired) return `expected host:port, got ${JSON.stringify(s)}`;
  const [host, port] = split ?? [s, undefined];
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return `port must be 1-65535 in ${JSON.stringify(s)}`;
  }
  if (!isIP(host) && !DNS_SUBDOMAIN.test(host)) return `host must be an IP or RFC-1123 DNS subdomain in ${JSON.stringify(s)}`;
  return undefined;
}

/** Checks a string against a fields.json `format`; throws on a format this checker does not know. */
function formatProblem(format: string, value: string): string | undefined {
  if (format.startsWith('host[:port]')) return hostPortProblem(value, false);
  if (format.startsWith('host:port')) return hostPortProblem(value, true);
  if (format === 'IP address') return isIP(value) ? undefined : `expected an IP address, got ${JSON.stringify(value)}`;
  if (format.startsWith('Go time.ParseDuration')) return GO_DURATION.test(value) ? undefined : `expected a Go duration, got ${JSON.stringify(value)}`;
  if (format.startsWith('RFC3339')) return RFC3339.test(value) ? undefined : `expected an RFC3339 time, got ${JSON.stringify(value)}`;
  throw new Error(`kubeadm-schema: unknown format in fields.json: ${format}`);
}

/** A plain YAML mapping (not a list, timestamp, or a YAML 1.1 !!omap/!!set, which become Map/Set). */
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const describe = (v: unknown) =>
  v === null ? 'null'
  : Array.isArray(v) ? 'a list'
  : typeof v === 'object' && !isMap(v) ? `a ${v.constructor.name}`
  : `${typeof v} ${JSON.stringify(v)}`;

class Walker {
  constructor(
    private readonly spec: ApiVersionSpec,
    private readonly version: [number, number] | undefined,
    private readonly errors: string[],
    private readonly prefix: string,
  ) {}

  private fail(path: string, message: string): void {
    this.errors.push(`${this.prefix}: ${path || '(document)'}: ${message}`);
  }

  /** Checks `value` (at `path`) against Go type `type`, with the field's extra constraints. */
  value(value: unknown, type: string, path: string, field: FieldSpec = { type }): void {
    if (value === null) {
      if (!(field.pointer || type.startsWith('[]') || type.startsWith('map['))) this.fail(path, `null is not allowed for ${type}`);
      return;
    }
    if (type.startsWith('[]')) {
      if (!Array.isArray(value)) return this.fail(path, `expected a list (${type}), got ${describe(value)}`);
      const itemField: FieldSpec = { type: type.slice(2), pattern: field.itemPattern, enum: field.itemEnum };
      value.forEach((item, i) => this.value(item, itemField.type, `${path}[${i}]`, itemField));
      return;
    }
    const map = /^map\[string\](.+)$/.exec(type);
    if (map) {
      if (!isMap(value)) return this.fail(path, `expected a map (${type}), got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) this.value(v, map[1]!, `${path}.${k}`);
      return;
    }
    switch (type) {
      case 'bool':
        if (typeof value !== 'boolean') this.fail(path, `expected a bool, got ${describe(value)}`);
        return;
      case 'int':
      case 'int32':
        if (!Number.isInteger(value) || Math.abs(value as number) > 2 ** 31) this.fail(path, `expected an ${type}, got ${describe(value)}`);
        return;
      case 'resource.Quantity':
        if (typeof value !== 'string' && typeof value !== 'number') this.fail(path, `expected a quantity, got ${describe(value)}`);
        return;
      case 'string':
      case 'metav1.Duration':
      case 'metav1.Time':
        return this.string(value, path, field);
    }
    const struct = this.spec.types[type];
    if (!struct) throw new Error(`kubeadm-schema: unknown type in fields.json: ${type}`);
    if (!isMap(value)) return this.fail(path, `expected an object (${type}), got ${describe(value)}`);
    for (const [key, v] of Object.entries(value)) {
      const sub = struct[key];
      const subPath = path ? `${path}.${key}` : key;
      if (!sub) {
        this.fail(subPath, `unknown field (${type} has ${Object.keys(struct).join(', ')})`);
        continue;
      }
      this.since(sub, subPath);
      this.value(v, sub.type, subPath, sub);
    }
    this.rules(type, value, path);
  }

  private string(value: unknown, path: string, field: FieldSpec): void {
    if (typeof value !== 'string') return this.fail(path, `expected a string, got ${describe(value)} (quote it)`);
    if (field.const !== undefined && value !== field.const) this.fail(path, `expected ${JSON.stringify(field.const)}, got ${JSON.stringify(value)}`);
    if (field.pattern && !new RegExp(field.pattern).test(value)) this.fail(path, `${JSON.stringify(value)} does not match ${field.pattern}`);
    if (field.enum && !field.enum.includes(value)) this.fail(path, `${JSON.stringify(value)} is not one of ${field.enum.join(', ')}`);
    const problem = field.format === undefined ? undefined : formatProblem(field.format, value);
    if (problem) this.fail(path, problem);
  }

  private since(field: FieldSpec, path: string): void {
    const m = field.since && /v(\d+)\.(\d+)/.exec(field.since);
    if (m && this.version && !atLeast(this.version, [Number(m[1]), Number(m[2])])) {
      this.fail(path, `needs ${field.since}, the target is v${this.version.join('.')}`);
    }
  }

  /** Cross-field rules of kubeadm's validation.go (listed in NOTES.md). */
  private rules(type: string, v: Record<string, unknown>, path: string): void {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    if (type === 'BootstrapTokenDiscovery') {
      if (!v.apiServerEndpoint) this.fail(at('apiServerEndpoint'), 'required with bootstrapToken discovery');
      const hashes = Array.isArray(v.caCertHashes) ? v.caCertHashes : [];
      if (hashes.length === 0 && v.unsafeSkipCAVerification !== true) {
        this.fail(at('caCertHashes'), 'empty: pin the CA, or set unsafeSkipCAVerification: true');
      }
    }
    if (type === 'Discovery' && (v.bootstrapToken == null) === (v.file == null)) {
      this.fail(path, 'exactly one of bootstrapToken and file must be set');
    }
    if (type === 'BootstrapToken') {
      if (v.ttl != null && v.expires != null) this.fail(path, 'ttl and expires are mutually exclusive');
      const usages = Array.isArray(v.usages) ? v.usages : undefined;
      if (Array.isArray(v.groups) && v.groups.length > 0 && usages && !usages.includes('authentication')) {
        this.fail(at('groups'), 'groups need the usage "authentication"');
      }
    }
  }
}

/**
 * Checks every document of a kubeadm config YAML stream.
 *
 * Failures: YAML errors (including duplicate keys), a document that is not a map, an unknown
 * apiVersion or kind, a kubeadm document whose apiVersion is not the one
 * {@link expectedKubeadmApiVersion} gives for `kubernetesVersion` (when given), unknown fields at
 * any depth, wrong scalar types, `const`/`pattern`/`enum`/`format` violations, fields newer than
 * the target version, and the cross-field rules of kubeadm validation.go.
 * Component-config documents (kubelet, kube-proxy) are listed with `checked: false`.
 */
export function checkKubeadmYaml(text: string, opts: { kubernetesVersion?: string } = {}): KubeadmCheck {
  const errors: string[] = [];
  const documents: KubeadmDocument[] = [];
  const version = opts.kubernetesVersion === undefined ? undefined : minorOf(opts.kubernetesVersion);
  const wanted = opts.kubernetesVersion === undefined ? undefined : expectedKubeadmApiVersion(opts.kubernetesVersion);
  parseAllDocuments(text, { version: '1.1' }).forEach((doc, i) => {
    const prefix = `doc${i}`;
    if (doc.errors.length > 0) {
      errors.push(...doc.errors.map((e) => `${prefix}: (yaml): ${e.message}`));
      return;
    }
    const data: unknown = doc.toJS();
    if (!isMap(data)) {
      errors.push(`${prefix}: (document): expected a map with apiVersion and kind, got ${describe(data)}`);
      return;
    }
    const { apiVersion, kind } = data;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      errors.push(`${prefix}: (document): apiVersion and kind must be strings`);
      return;
    }
    const spec = specs()[apiVersion];
    if (!spec) {
      if (COMPONENT_CONFIG_API_VERSIONS.includes(apiVersion)) documents.push({ apiVersion, kind, checked: false, data });
      else errors.push(`${prefix}: apiVersion: unknown ${JSON.stringify(apiVersion)}`);
      return;
    }
    documents.push({ apiVersion, kind, checked: true, data });
    const type = spec.kinds[kind];
    if (!type) {
      errors.push(`${prefix}: kind: ${JSON.stringify(kind)} is not a kind of ${apiVersion} (${Object.keys(spec.kinds).join(', ')})`);
      return;
    }
    if (wanted && apiVersion !== wanted) {
      errors.push(`${prefix} ${kind}: apiVersion: ${apiVersion} is wrong for Kubernetes ${opts.kubernetesVersion}, expected ${wanted}`);
    }
    new Walker(spec, version, errors, `${prefix} ${kind}`).value(data, type, '');
  });
  return { documents, errors };
}
