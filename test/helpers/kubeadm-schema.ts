/**
 * A strict checker for kubeadm configuration YAML: ajv over a JSON Schema built from the field
 * reference test/fixtures/schemas/kubeadm/fields.json (taken from kubeadm's v1beta3/v1beta4
 * types.go; see its `source` and NOTES.md next to it). kubeadm itself only warns about unknown
 * fields; this checker fails on them, so a typo in a generated config cannot go unnoticed.
 *
 * fields.json -> JSON Schema: `types[T]` (JSON field name -> `{type, pointer?, const?,
 * pattern?, enum?, itemPattern?, itemEnum?, format?, since?}`, embedded structs already
 * flattened) becomes an object schema with `additionalProperties: false`; Go scalars map to
 * JSON types (`string`, `metav1.Duration`, `metav1.Time` -> string; `bool` -> boolean;
 * `int`, `int32` -> integer within int32; `resource.Quantity` -> string or number), `[]T` to
 * an array, `map[string]T` to an object of T; `pointer`, lists and maps may be null. Every
 * generated schema's `title` is its Go type, for messages. A field whose `since` is newer than
 * the target release is refused. kubeadm's cross-field rules (validation.go, NOTES.md) are
 * extra schemas marked `x-rule`.
 *
 * Scalars are typed as kubeadm's decoder types them: YAML 1.1 (go-yaml v2, so `yes` is a bool)
 * and no coercion, e.g. `v: 4` where a string is expected is an error, like kubeadm's
 * "cannot unmarshal number into Go struct field ... of type string"
 * (kubernetes/website#15171, kubernetes/website#46756).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { SCHEMAS } from './cli.js';

/** Path of the field reference the checker reads. */
export const FIELDS_JSON = join(SCHEMAS, 'kubeadm', 'fields.json');

/** A field of fields.json (the keys this checker reads) and one apiVersion's entry. */
type FieldSpec = { type: string; pointer?: boolean; const?: string; pattern?: string; enum?: string[]; itemPattern?: string; itemEnum?: string[]; format?: string; since?: string };
type ApiVersionSpec = { kinds: Record<string, string>; types: Record<string, Record<string, FieldSpec>> };
type Schema = Record<string, unknown>;

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

const SPECS = JSON.parse(readFileSync(FIELDS_JSON, 'utf8')) as Record<string, ApiVersionSpec>;

/** `[major, minor]` of a Kubernetes version such as `v1.31.2` or `1.30`. */
export function minorOf(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: ${version}`);
  return [Number(m[1]), Number(m[2])];
}

const atLeast = (v: [number, number], w: [number, number]) => v[0] > w[0] || (v[0] === w[0] && v[1] >= w[1]);

/**
 * The kubeadm config API a given Kubernetes version should be fed (NOTES.md): v1beta4 from
 * v1.31 (enabled there, PR #125029), v1beta3 for v1.22..v1.30. Written from NOTES.md, apart
 * from src/versions.ts, so that the tests compare two readings of the sources.
 * @throws Error for versions below v1.22, which accept neither.
 */
export function expectedKubeadmApiVersion(kubernetesVersion: string): string {
  const v = minorOf(kubernetesVersion);
  if (atLeast(v, [1, 31])) return 'kubeadm.k8s.io/v1beta4';
  if (atLeast(v, [1, 22])) return 'kubeadm.k8s.io/v1beta3';
  throw new Error(`Kubernetes ${kubernetesVersion} predates kubeadm.k8s.io/v1beta3 (v1.22)`);
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** kubeadm util/endpoint.go ParseHostPort: host (an IP or DNS-1123 subdomain, IPv6 bracketed with a port) and port 1-65535. */
function isHostPort(s: string, portRequired: boolean): boolean {
  const split = /^\[([^\]]+)\]:([^:]*)$/.exec(s) ?? /^([^:[\]]*):([^:]*)$/.exec(s);
  if (!split && portRequired) return false;
  const [host, port] = split ? [split[1]!, split[2]!] : [s, undefined];
  return (port === undefined || (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) && (isIP(host) !== 0 || DNS_SUBDOMAIN.test(host));
}

/** The fields.json `format` texts, by their start, as ajv formats with what a message says is expected. */
const FORMATS: { prefix: string; name: string; expected: string; test: (s: string) => boolean }[] = [
  { prefix: 'host[:port]', name: 'host-optional-port', expected: 'host[:port] (an IP or RFC-1123 DNS subdomain, port 1-65535)', test: (s) => isHostPort(s, false) },
  { prefix: 'host:port', name: 'host-port', expected: 'host:port (an IP or RFC-1123 DNS subdomain, port 1-65535)', test: (s) => isHostPort(s, true) },
  { prefix: 'IP address', name: 'ip', expected: 'an IP address', test: (s) => isIP(s) !== 0 },
  { prefix: 'Go time.ParseDuration', name: 'go-duration', expected: 'a Go duration', test: (s) => /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/.test(s) },
  { prefix: 'RFC3339', name: 'rfc3339', expected: 'an RFC3339 time', test: (s) => /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) },
];

/** A plain YAML mapping (not a list, timestamp, or a YAML 1.1 !!omap/!!set, which become Map/Set). */
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const describe = (v: unknown) =>
  v === null ? 'null'
  : Array.isArray(v) ? 'a list'
  : typeof v === 'object' && !isMap(v) ? `a ${v.constructor.name}`
  : `${typeof v} ${JSON.stringify(v)}`;

const ajv = new Ajv.default({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
for (const f of FORMATS) ajv.addFormat(f.name, { type: 'string', validate: f.test });
// `x-plain`: a YAML mapping, not a Map/Set/Date, which ajv's type "object" lets through.
ajv.addKeyword({ keyword: 'x-plain', schemaType: 'boolean', validate: (_: boolean, data: unknown) => typeof data !== 'object' || data === null || Array.isArray(data) || isMap(data) });
// `x-rule`: what to say when the schema beside it fails (`field`: where, under the object).
ajv.addKeyword({ keyword: 'x-rule', schemaType: 'object' });

/** kubeadm validation.go's cross-field rules (NOTES.md "Format rules"), as schemas of the struct they constrain. */
const notNull = { not: { type: 'null' } };
const RULES: Record<string, Schema[]> = {
  BootstrapTokenDiscovery: [
    { 'x-rule': { field: 'apiServerEndpoint', message: 'required with bootstrapToken discovery' }, required: ['apiServerEndpoint'] },
    {
      'x-rule': { field: 'caCertHashes', message: 'empty: pin the CA, or set unsafeSkipCAVerification: true' },
      not: { not: { anyOf: [{ required: ['caCertHashes'], properties: { caCertHashes: { type: 'array', minItems: 1 } } }, { required: ['unsafeSkipCAVerification'], properties: { unsafeSkipCAVerification: { const: true } } }] } },
    },
  ],
  Discovery: [{
    'x-rule': { message: 'exactly one of bootstrapToken and file must be set' },
    oneOf: [{ required: ['bootstrapToken'], properties: { bootstrapToken: notNull } }, { required: ['file'], properties: { file: notNull } }],
  }],
  BootstrapToken: [
    { 'x-rule': { message: 'ttl and expires are mutually exclusive' }, not: { required: ['ttl', 'expires'], properties: { ttl: notNull, expires: notNull } } },
    {
      'x-rule': { field: 'groups', message: 'groups need the usage "authentication"' },
      not: { required: ['groups', 'usages'], properties: { groups: { type: 'array', minItems: 1 }, usages: { type: 'array', not: { contains: { const: 'authentication' } } } } },
    },
  ],
};

const INT32 = { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 };
const SCALARS: Record<string, Schema> = {
  string: { type: 'string' }, 'metav1.Duration': { type: 'string' }, 'metav1.Time': { type: 'string' }, bool: { type: 'boolean' },
  int: { type: 'integer', ...INT32 }, int32: { type: 'integer', ...INT32 }, 'resource.Quantity': { type: ['string', 'number'] },
};

/** `schema` that also takes null (Go pointers, lists and maps). */
const orNull = (schema: Schema): Schema => ({ ...schema, type: [schema.type, 'null'].flat() });

/** The JSON Schema of Go type `type` in `spec`, with a field's constraints; `target` gates `since`. */
function schemaOf(spec: ApiVersionSpec, type: string, target: [number, number] | undefined, field: FieldSpec = { type }): Schema {
  if (type.startsWith('[]')) {
    const item = type.slice(2);
    return orNull({ title: type, type: 'array', items: schemaOf(spec, item, target, { type: item, pattern: field.itemPattern, enum: field.itemEnum }) });
  }
  const map = /^map\[string\](.+)$/.exec(type);
  if (map) return orNull({ title: type, type: 'object', 'x-plain': true, additionalProperties: schemaOf(spec, map[1]!, target) });
  const scalar = SCALARS[type];
  if (scalar) {
    const format = field.format === undefined ? undefined : FORMATS.find((f) => field.format!.startsWith(f.prefix));
    if (field.format !== undefined && !format) throw new Error(`kubeadm-schema: unknown format in fields.json: ${field.format}`);
    const s: Schema = { title: type, ...scalar };
    if (field.const !== undefined) s.const = field.const;
    if (field.pattern) s.pattern = field.pattern;
    if (field.enum) s.enum = field.enum;
    if (format) s.format = format.name;
    return field.pointer ? orNull(s) : s;
  }
  const struct = spec.types[type];
  if (!struct) throw new Error(`kubeadm-schema: unknown type in fields.json: ${type}`);
  const properties: Record<string, Schema> = {};
  for (const [name, sub] of Object.entries(struct)) {
    const m = sub.since && /v(\d+)\.(\d+)/.exec(sub.since);
    properties[name] = m && target && !atLeast(target, [Number(m[1]), Number(m[2])])
      ? { 'x-rule': { message: `needs ${sub.since}, the target is v${target.join('.')}` }, not: {} }
      : schemaOf(spec, sub.type, target, sub);
  }
  const s: Schema = { title: type, type: 'object', 'x-plain': true, properties, additionalProperties: false };
  if (RULES[type]) s.allOf = RULES[type];
  return field.pointer ? orNull(s) : s;
}

const validators = new Map<string, ValidateFunction>();
function validator(apiVersion: string, type: string, target: [number, number] | undefined): ValidateFunction {
  const key = `${apiVersion} ${type} ${target?.join('.') ?? ''}`;
  let v = validators.get(key);
  if (!v) validators.set(key, (v = ajv.compile(schemaOf(SPECS[apiVersion]!, type, target))));
  return v;
}

/** What a value of Go type `goType` is, as messages say it: `a string`, `an int32`, `a list ([]Arg)`. */
function expected(goType: string): string {
  if (goType.startsWith('[]')) return `a list (${goType})`;
  if (goType.startsWith('map[')) return `a map (${goType})`;
  if (goType === 'bool') return 'a bool';
  if (goType.startsWith('int')) return `an ${goType}`;
  if (goType === 'resource.Quantity') return 'a quantity';
  return SCALARS[goType] ? 'a string' : `an object (${goType})`;
}

/** `/bootstrapTokens/0/token` -> `bootstrapTokens[0].token`. */
const fieldPath = (pointer: string) =>
  pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p), '');
const join2 = (path: string, field: string) => (path ? `${path}.${field}` : field);

/**
 * One ajv error as `path: message` (`(document)` for the top), or undefined for the errors
 * inside a rule's schema (`required`, `oneOf`, ... without an `x-rule` beside them), which
 * the rule's own error reports.
 */
function message(e: ErrorObject): string | undefined {
  const path = fieldPath(e.instancePath) || '(document)';
  const parent = (e.parentSchema ?? {}) as Schema;
  const rule = parent['x-rule'] as { field?: string; message: string } | undefined;
  if (rule) return `${rule.field ? join2(fieldPath(e.instancePath), rule.field) : path}: ${rule.message}`;
  const title = String(parent.title ?? '');
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      return `${join2(fieldPath(e.instancePath), name)}: unknown field (${title} has ${Object.keys(parent.properties as Schema).join(', ')})`;
    }
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'x-plain': {
      const quote = expected(title) === 'a string' && ['number', 'boolean'].includes(typeof e.data) ? ' (quote it)' : '';
      return `${path}: expected ${expected(title)}, got ${describe(e.data)}${quote}`;
    }
    case 'const':
      return `${path}: expected ${JSON.stringify(parent.const)}, got ${JSON.stringify(e.data)}`;
    case 'pattern':
      return `${path}: ${JSON.stringify(e.data)} does not match ${String(parent.pattern)}`;
    case 'enum':
      return `${path}: ${JSON.stringify(e.data)} is not one of ${(parent.enum as string[]).join(', ')}`;
    case 'format':
      return `${path}: expected ${FORMATS.find((f) => f.name === parent.format)!.expected}, got ${JSON.stringify(e.data)}`;
  }
  return undefined;
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
 * @throws Error when fields.json names a type or format this checker does not know.
 */
export function checkKubeadmYaml(text: string, opts: { kubernetesVersion?: string } = {}): KubeadmCheck {
  const errors: string[] = [];
  const documents: KubeadmDocument[] = [];
  const target = opts.kubernetesVersion === undefined ? undefined : minorOf(opts.kubernetesVersion);
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
    const spec = SPECS[apiVersion];
    if (!spec || apiVersion === 'source') {
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
    const validate = validator(apiVersion, type, target);
    if (validate(data)) return;
    const found = validate.errors!.map(message).filter((m): m is string => m !== undefined);
    // Never a silent failure: an error this file cannot word is shown as ajv reports it.
    if (found.length === 0) found.push(`(document): ${ajv.errorsText(validate.errors)}`);
    errors.push(...[...new Set(found)].map((m) => `${prefix} ${kind}: ${m}`));
  });
  return { documents, errors };
}
