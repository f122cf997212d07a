/**
 * Every problem k8s-ha can report about a profile, in one place, each with a stable code.
 *
 * Codes never change meaning once released: scripts and docs may match on them.
 * `E…` are errors (render refuses), `W…` are warnings (render goes on; `--strict` refuses).
 */

/** Stable problem codes with a one-line description each. */
export const CODES = {
  E_READ: 'E001',
  E_EXTENSION: 'E002',
  E_SYNTAX: 'E003',
  E_TYPE: 'E010',
  E_REQUIRED: 'E011',
  E_UNKNOWN_KEY: 'E012',
  E_RANGE: 'E013',
  E_FORMAT: 'E014',
  E_UNSAFE: 'E015',
  E_DUPLICATE: 'E020',
  E_FAMILY: 'E021',
  E_VIP_IS_NODE: 'E022',
  E_VIP_SUBNET: 'E023',
  E_PORT_CLASH: 'E024',
  E_AUTH_PASS: 'E025',
  E_PRIORITY: 'E026',
  E_INTERFACE: 'E027',
  E_ADVERT: 'E028',
  E_BOOT: 'E030',
  E_NETWORK: 'E031',
  E_USER_DATA_SIZE: 'E032',
  W_ROUTER_ID: 'W101',
  W_SINGLE_NODE: 'W102',
  W_PLAINTEXT_AUTH: 'W103',
  W_AUTH_IGNORED: 'W104',
  W_EVEN_NODES: 'W105',
  W_UNSAFE_CA: 'W106',
  W_SKEW_GAP: 'W107',
} as const;

/** Symbolic name of a problem code, e.g. `E_DUPLICATE`. */
export type CodeName = keyof typeof CODES;

/** A field path into the profile, e.g. `['nodes', 1, 'address']`. */
export type FieldPath = (string | number)[];

/**
 * One problem found in a profile.
 * `line`/`col` (1-based) are set where the parser or the source map could place it.
 */
export interface Problem {
  code: CodeName;
  severity: 'error' | 'warning';
  path: FieldPath;
  message: string;
  hint?: string;
  line?: number;
  col?: number;
}

/** Renders a field path the way users write it: `nodes[1].address`; the root is `(profile)`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(profile)' : out;
}

/** Builds an error {@link Problem}. */
export function error(code: CodeName, path: FieldPath, message: string, hint?: string): Problem {
  return hint === undefined ? { code, severity: 'error', path, message } : { code, severity: 'error', path, message, hint };
}

/** Builds a warning {@link Problem}. */
export function warning(code: CodeName, path: FieldPath, message: string, hint?: string): Problem {
  return hint === undefined ? { code, severity: 'warning', path, message } : { code, severity: 'warning', path, message, hint };
}

/**
 * Thrown when a profile cannot be turned into a plan. Carries every problem found (not just
 * the first) and the file they belong to; the CLI prints them with {@link formatProblems}
 * and exits 1. The message itself never includes profile values marked secret.
 */
export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(file, problems));
    this.name = 'ProfileError';
  }
}

/**
 * Formats problems one per line, Butane style:
 * `FILE:LINE:COL: error E020 at nodes[1].name: duplicate node name "cp-1"` then `  hint: …`.
 */
export function formatProblems(file: string, problems: Problem[]): string {
  return problems
    .map((p) => {
      const where = p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file;
      const head = `${where}: ${p.severity} ${CODES[p.code]} at ${formatPath(p.path)}: ${p.message}`;
      return p.hint ? `${head}\n  hint: ${p.hint}` : head;
    })
    .join('\n');
}
