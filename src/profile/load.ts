/**
 * Loads a profile file (TOML or YAML, by extension), validates it and resolves it to a Plan.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import toml from '@iarna/toml';
import YAML from 'yaml';
import type * as z from 'zod/mini';
import { CODES, ProblemError, error, warning, type FieldPath, type Problem } from './errors.js';
import { FIELD_HINTS, KIND_HINTS, RANGES, profileSchema, type RawProfile } from './schema.js';
import { resolvePlan } from './resolve.js';
import { applyAccessAndUserContent, installProblems } from './user-content.js';
import { showValue } from './report.js';
import { locator } from './source-map.js';
import { AUTH_PASS } from './values.js';
import type { Plan, PlanAddon, PlanWarning } from '../model.js';

/** Result of {@link loadProfile}: the plan and the warnings about it. */
export interface LoadedProfile {
  plan: Plan;
  warnings: PlanWarning[];
  /** Every warning as a Problem (with line:col where known), for printing. */
  problems: Problem[];
  /** The profile's text, for the source lines of printed problems (errors.ts formatProblems). */
  text: string;
}

/** Environment variables the loader reads. */
export interface ProfileEnv {
  /** `K8S_HA_AUTH_PASS`: VRRP password; wins over keepalived.authPass in the file. */
  K8S_HA_AUTH_PASS?: string;
}

/**
 * Reads, parses, validates and resolves the profile at `file`.
 * @param env where `K8S_HA_AUTH_PASS` is read from (default `process.env`).
 * @throws ProblemError with every problem found (syntax, structure, cross-field rules).
 */
export function loadProfile(file: string, env: ProfileEnv = process.env): LoadedProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ProblemError(file, [error('E_READ', [], `cannot read the profile: ${reason}`, 'pass the path of a .toml or .yaml profile, e.g. profiles/seed.toml')]);
  }
  return parseProfile(file, text, env);
}

/** The two profile formats. */
export type ProfileFormat = 'toml' | 'yaml';

/**
 * Like {@link loadProfile} on text already read; `file` names the source in messages, picks
 * the parser unless `format` is given, and anchors a relative `keepalived.authPassFile`. Every
 * problem gets the line:col of its value (source-map.ts `locate`) where the text has it.
 * @throws ProblemError with every problem found.
 */
export function parseProfile(file: string, text: string, env: ProfileEnv = process.env, format: ProfileFormat = profileFormat(file)): LoadedProfile {
  try {
    const data = format === 'toml' ? parseToml(file, text) : parseYaml(file, text);
    return validateProfile(file, data, env, { text, format });
  } catch (e) {
    throw e instanceof ProblemError ? withOtherFormatHint(e, text, format) : e;
  }
}

/**
 * Recognises a profile's format from its first significant line (blank lines, `#` comments
 * and a YAML `---` skipped): a `[table]` header or `key = value` is TOML, `key: value` (or
 * `key:` opening a block) is YAML. Returns undefined when the line is neither, e.g. empty input.
 */
export function detectProfileFormat(text: string): ProfileFormat | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '' || line.startsWith('#') || line === '---') continue;
    if (/^\[\[?\s*[A-Za-z0-9_."' -]+\]\]?\s*(#.*)?$/.test(line) || /^("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/.test(line)) return 'toml';
    if (/^("[^"]*"|'[^']*'|[A-Za-z0-9_$.-]+)\s*:(\s|$)/.test(line) || /^\{/.test(line)) return 'yaml';
    return undefined;
  }
  return undefined;
}

/**
 * A profile that failed to parse or to validate at its root, and looks like the other format
 * (TOML in a .yaml file, YAML in a .toml file): the first problem's hint says so, since the
 * parser's own message ("expected a table", "expected =") does not.
 */
function withOtherFormatHint(e: ProblemError, text: string, format: ProfileFormat): ProblemError {
  const other = detectProfileFormat(text);
  const first = e.problems[0];
  const atRoot = first !== undefined && (first.code === 'E_SYNTAX' || (first.code === 'E_TYPE' && first.path.length === 0));
  if (other === undefined || other === format || !atRoot) return e;
  const name = other === 'toml' ? 'TOML' : 'YAML';
  const hint = `this looks like ${name}, not ${format === 'toml' ? 'TOML' : 'YAML'}: name the file *.${other === 'toml' ? 'toml' : 'yaml'} (or pass --profile-format ${other})`;
  return new ProblemError(e.file, [{ ...first, hint }, ...e.problems.slice(1)], e.text);
}

/**
 * Validates and resolves profile data already parsed (a plain object, as TOML or YAML would
 * give); `file` names the source in messages and anchors a relative `keepalived.authPassFile`.
 * With `source`, problems get line:col from that text.
 * @throws ProblemError with every problem found.
 */
export function validateProfile(file: string, data: unknown, env: ProfileEnv = process.env, source?: { text: string; format: ProfileFormat }): LoadedProfile {
  const text = source?.text ?? '';
  const place = (problems: Problem[]) => (source ? placeProblems(problems, source.text, source.format) : problems);
  const fail = (problems: Problem[]): never => {
    throw new ProblemError(file, place(problems), source?.text);
  };
  const result = profileSchema.safeParse(data);
  if (!result.success) fail(result.error.issues.map((i) => issueToProblem(i, data)));
  const { raw, problems: passProblems } = readAuthPassFile(file, result.data!);
  if (passProblems.some((p) => p.severity === 'error')) fail(passProblems);
  // A password read from authPassFile is reported there.
  const passPath = raw.keepalived?.authPassFile !== undefined ? ['keepalived', 'authPassFile'] : undefined;
  const { plan, problems } = resolvePlan(resolvePath(file), raw, env, passPath);
  const addons = readAddons(file, raw);
  problems.unshift(...passProblems, ...addons.problems);
  if (plan !== undefined) problems.push(...applyAccessAndUserContent(file, raw, plan), ...installProblems(raw));
  if (problems.some((p) => p.severity === 'error')) fail(problems);
  if (addons.addons.length > 0) plan!.addons = addons.addons;
  const warnings = problems.map((p) => ({ code: CODES[p.code], path: p.path.join('.'), message: p.message }));
  return { plan: plan!, warnings, problems: place(problems), text };
}

/** Sets line/col on every problem that has none, from the source text; unknown keys point at the key. */
function placeProblems(problems: Problem[], text: string, format: ProfileFormat): Problem[] {
  const locate = locator(text, format);
  for (const p of problems) {
    if (p.line !== undefined || p.path.length === 0) continue;
    const pos = locate(p.path, p.code === 'E_UNKNOWN_KEY' ? 'key' : 'value');
    if (pos) Object.assign(p, pos);
  }
  return problems;
}

/**
 * Resolves `keepalived.authPassFile`: reads the VRRP password from that file (relative to the
 * profile's directory; one trailing newline dropped) into `keepalived.authPass`, so the
 * profile itself can be shared without the secret. Errors (unreadable, invalid content, both
 * authPass and authPassFile given) never show the content; a file readable by group or others
 * gets a warning. K8S_HA_AUTH_PASS still wins (resolve.ts).
 */
function readAuthPassFile(file: string, raw: RawProfile): { raw: RawProfile; problems: Problem[] } {
  const name = raw.keepalived?.authPassFile;
  if (name === undefined) return { raw, problems: [] };
  const path = ['keepalived', 'authPassFile'];
  if (raw.keepalived?.authPass !== undefined)
    return { raw, problems: [error('E_AUTH_PASS', path, 'give keepalived.authPass or keepalived.authPassFile, not both', 'keep the password out of the profile: authPassFile, or K8S_HA_AUTH_PASS in the environment')] };
  const full = resolvePath(dirname(file), name);
  let content: string;
  try {
    content = readFileSync(full, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    return { raw, problems: [error('E_READ', path, `cannot read ${showValue(path, full)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'a path relative to the profile, to a file holding only the password')] };
  }
  if (!AUTH_PASS.test(content))
    return { raw, problems: [error('E_AUTH_PASS', path, `the file must hold 1-8 characters of A-Z a-z 0-9 _ . , : ; @ % + = * ^ ~ / - (content not shown)`, FIELD_HINTS.authPass)] };
  const problems = (statSync(full).mode & 0o077) !== 0
    ? [warning('W_SECRET_FILE_MODE', path, `${showValue(path, full)} is readable by group or others`, `chmod 600 ${showValue(path, full)}`)]
    : [];
  return { raw: { ...raw, keepalived: { ...raw.keepalived, authPass: content } }, problems };
}

/**
 * Resolves `[[addons]]`: each names exactly one of `url` and `file`; a file (relative to the
 * profile's directory) is read now, its content carried by the init node's outputs. Names are
 * unique (each becomes /etc/k8s-ha/addons/NAME.yaml and a journal line).
 */
function readAddons(file: string, raw: RawProfile): { addons: PlanAddon[]; problems: Problem[] } {
  const addons: PlanAddon[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  (raw.addons ?? []).forEach((a, i) => {
    const path = ['addons', i];
    const first = seen.get(a.name);
    if (first !== undefined) problems.push(error('E_DUPLICATE', [...path, 'name'], `add-on name ${showValue([], a.name)} repeats addons[${first}]`, 'give every add-on its own name'));
    seen.set(a.name, i);
    if ((a.url === undefined) === (a.file === undefined)) {
      problems.push(error('E_REQUIRED', path, `add-on ${showValue([], a.name)} needs exactly one of url and file`, 'url = "https://..." for a manifest the init node downloads, or file = "cni.yaml" (relative to the profile) to embed one'));
      return;
    }
    if (a.url !== undefined) {
      addons.push({ name: a.name, url: a.url });
      return;
    }
    const full = resolvePath(dirname(file), a.file!);
    try {
      const content = readFileSync(full, 'utf8');
      if (content.trim() === '') problems.push(error('E_FORMAT', [...path, 'file'], `${showValue([], full)} is empty`, 'a Kubernetes manifest (YAML or JSON) for kubectl apply -f'));
      else addons.push({ name: a.name, file: a.file!, content });
    } catch (e) {
      problems.push(error('E_READ', [...path, 'file'], `cannot read ${showValue([], full)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, FIELD_HINTS.file));
    }
  });
  return { addons, problems };
}

/** The profile's format by file extension. @throws ProblemError for any other extension. */
function profileFormat(file: string): ProfileFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.toml') return 'toml';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw new ProblemError(file, [error('E_EXTENSION', [], `unknown profile format "${ext || '(none)'}"`, 'name the file *.toml, *.yaml or *.yml')]);
}

/** @iarna/toml errors carry 0-based `line` and `col` (shared/notes/typescript-stack.md). */
function parseToml(file: string, text: string): unknown {
  try {
    // JSON round trip: plain objects and numbers for zod. Integers beyond 2^53 (BigInt in
    // @iarna/toml) become numbers, which the field's range check reports; inf and nan become
    // null, which the schema reports as the wrong type (E010).
    return JSON.parse(JSON.stringify(toml.parse(text), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
  } catch (e) {
    const err = e as Error & { line?: number; col?: number };
    const first = err.message.split('\n')[0] ?? err.message;
    const p = error('E_SYNTAX', [], `TOML syntax error: ${first.replace(/ at row \d+, col \d+, pos \d+:?$/, '')}`, 'check quotes, brackets and "key = value" pairs near this line');
    if (err.line !== undefined) {
      p.line = err.line + 1;
      p.col = (err.col ?? 0) + 1;
    }
    throw new ProblemError(file, [p], text);
  }
}

function parseYaml(file: string, text: string): unknown {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new ProblemError(
      file,
      doc.errors.map((e) => {
        const p = error('E_SYNTAX', [], `YAML syntax error: ${e.message.split('\n')[0]}`, 'check indentation, colons and quotes near this line');
        const pos = lineCounter.linePos(e.pos[0]);
        if (pos.line > 0) {
          p.line = pos.line;
          p.col = pos.col;
        }
        return p;
      }),
      text,
    );
  }
  return doc.toJS();
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Turns a zod issue into a Problem with a message that says what was expected and what was got. */
function issueToProblem(issue: z.core.$ZodIssue, data: unknown): Problem {
  const path = issue.path as FieldPath;
  const last = path[path.length - 1];
  const value = valueAt(data, path);
  const got = showValue(path, value);
  const hint = typeof last === 'string' ? FIELD_HINTS[last] : undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path);
      return error(
        'E_UNKNOWN_KEY',
        [...path, issue.keys[0]!],
        `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => showValue([], k)).join(', ')}`,
        didYouMean(issue.keys[0]!, known) ?? (known.length ? `known keys here: ${known.join(', ')}` : undefined),
      );
    }
    case 'invalid_type':
      if (value === undefined) return error('E_REQUIRED', path, `missing required ${issue.expected}`, hint ?? KIND_HINTS.required);
      return error('E_TYPE', path, `expected ${article(issue.expected)}, got ${got}`, hint ?? KIND_HINTS.type);
    case 'too_small':
    case 'too_big': {
      if (Array.isArray(value)) return error('E_RANGE', path, `expected at least ${String((issue as { minimum: number }).minimum)} entr${(issue as { minimum: number }).minimum === 1 ? 'y' : 'ies'}`, hint ?? KIND_HINTS.range);
      const s = schemaAt(path);
      const range = s ? RANGES.get(s as object) : undefined;
      return error('E_RANGE', path, `expected ${range ?? 'a value in range'}, got ${got}`, hint ?? KIND_HINTS.range);
    }
    case 'invalid_value': {
      // An enum (boot.os, a hook's roles): name the choices.
      const values = (issue as { values?: unknown[] }).values ?? [];
      return error('E_FORMAT', path, `expected one of ${values.map((v) => showValue([], v)).join(', ')}, got ${got}`, hint ?? KIND_HINTS.format);
    }
    case 'invalid_union': {
      // A hook is a shell line or a { run, roles } table: report the branch the value was
      // written as (the one not refusing its type outright), with that branch's own message.
      const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
      const best = branches.find((b) => b.length > 0 && !b.some((i) => i.code === 'invalid_type' && i.path.length === 0)) ?? branches.find((b) => b.length > 0);
      if (best !== undefined) return issueToProblem({ ...best[0]!, path: [...path, ...best[0]!.path] } as z.core.$ZodIssue, data);
      return error('E_TYPE', path, `expected a string or a table, got ${got}`, hint ?? KIND_HINTS.type);
    }
    default: {
      const msg = issue.message && issue.message !== 'Invalid input' ? issue.message : 'invalid value';
      const code = typeof value === 'string' && /[\u0000-\u001f\u007f"'{}`$\\]/.test(value) ? 'E_UNSAFE' : 'E_FORMAT';
      return error(code, path, `${msg}, got ${got}`, hint ?? KIND_HINTS.format);
    }
  }
}

function article(t: string): string {
  if (t === 'int') return 'an integer';
  if (t === 'array') return 'an array';
  if (t === 'object') return 'a table';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** Walks the schema to the object at `path` and returns its keys (for did-you-mean). */
function knownKeys(path: FieldPath): string[] {
  const s = schemaAt(path);
  const shape = (s as { _zod?: { def?: { shape?: Record<string, unknown> } } })?._zod?.def?.shape;
  return shape ? Object.keys(shape).filter((k) => k !== '$schema') : [];
}

function schemaAt(path: FieldPath): unknown {
  let s: unknown = profileSchema;
  for (const k of path) {
    s = unwrap(s);
    const def = (s as { _zod: { def: { type: string; shape?: Record<string, unknown>; element?: unknown } } })._zod.def;
    if (def.type === 'object' && typeof k === 'string') s = def.shape?.[k];
    else if (def.type === 'array' && typeof k === 'number') s = def.element;
    else return undefined;
    if (s === undefined) return undefined;
  }
  return unwrap(s);
}

function unwrap(s: unknown): unknown {
  let cur = s as { _zod: { def: { type: string; innerType?: unknown } } };
  while (cur._zod.def.type === 'optional' || cur._zod.def.type === 'default') cur = cur._zod.def.innerType as typeof cur;
  return cur;
}

/** Suggests the known key closest to `key` (Levenshtein distance <= 2, or same lower case). */
export function didYouMean(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : levenshtein(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best === undefined ? undefined : `did you mean "${best}"?`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
