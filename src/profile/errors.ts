/**
 * Every problem k8s-ha can report about a profile, in one place, each with a stable code.
 *
 * Codes never change meaning once released: scripts and docs may match on them.
 * `E…` are errors (render refuses), `W…` are warnings (render goes on; `--strict` refuses).
 */

import { showValue, sourceExcerpt } from './report.js';

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
  E_VIP_RESERVED: 'E029',
  E_BOOT: 'E030',
  E_NETWORK: 'E031',
  E_USER_DATA_SIZE: 'E032',
  E_SECRETS: 'E060',
  /** A pod/service subnet kubeadm or kube-apiserver rejects (form, size, node mask); kubeadm-rules.ts. */
  E_SUBNET: 'E040',
  /** Pod, service and node networks overlap; kubeadm-rules.ts. */
  E_OVERLAP: 'E041',
  /** A generated kubeadm value (controlPlaneEndpoint, certSANs, node name) kubeadm would reject; kubeadm-rules.ts. */
  E_KUBEADM: 'E042',
  E_SSH_KEY: 'E050',
  E_USER_CONTENT: 'E051',
  E_INSTALL: 'E052',
  E_NO_KUBERNETES: 'E036',
  /** A program k8s-ha needs is missing or failed (seed's xorriso/genisoimage, a command the lab runs). */
  E_TOOL: 'E070',
  /** An output directory (--out) holds files the command does not write, or is not a directory. */
  E_OUTPUT: 'E071',
  /** An earlier output (--against) cannot be read or holds no node outputs. */
  E_AGAINST: 'E072',
  /** A rollout option (--holder, --replaced) names no node it can apply to. */
  E_ROLLOUT: 'E073',
  /** The lab cannot run here or failed as a lab (not Linux, not root, missing tools, outputs that differ). */
  E_LAB: 'E074',
  W_ROUTER_ID: 'W101',
  W_SINGLE_NODE: 'W102',
  W_PLAINTEXT_AUTH: 'W103',
  W_AUTH_IGNORED: 'W104',
  W_EVEN_NODES: 'W105',
  W_UNSAFE_CA: 'W106',
  W_SKEW_GAP: 'W107',
  W_SECRET_FILE_MODE: 'W108',
  W_NOT_VALIDATED: 'W150',
  W_LIVE_CONTROL_PLANE: 'W111',
  W_NO_PREFIX: 'W109',
  W_SLOW_FAILOVER: 'W110',
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

/**
 * Renders a field path the way users write it: `nodes[1].address`; keys that are not plain
 * identifiers are quoted (`labels["rack.id"]`, an unknown key `["a\\nb"]`); the root is `root`
 * (`(profile)`, or `(file)` for another file such as the secrets file).
 * A command-line flag (`--max-user-data`, the path of a problem with a flag's value) prints as is.
 */
export function formatPath(path: FieldPath, root = '(profile)'): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^(--)?[A-Za-z_$][A-Za-z0-9_-]*$/.test(part)) out += `[${showValue([], part)}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? root : out;
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
 * The one error k8s-ha throws for bad input or a machine that cannot do the job (modelled on
 * Butane's one report type with kind, path and marker): a profile, a secrets file, boot
 * settings, an earlier output, an output directory, a missing program. Carries every problem
 * found (not just the first), the file they are in (a profile, a secrets file, a directory;
 * `k8s-ha` for the machine; undefined until a caller knows it, see {@link ProblemError.in}), the
 * file's text when it was read (for the source lines of the report) and the name of the file
 * itself in the report (`root`, see {@link formatPath}). The message is {@link formatProblems}'
 * report; the CLI prints it and exits 1 (src/cli.ts, the only place that maps it to an exit
 * code). The message never includes profile values marked secret (source-map.ts `isSecretPath`).
 */
export class ProblemError extends Error {
  constructor(
    readonly file: string | undefined,
    readonly problems: Problem[],
    readonly text?: string,
    readonly root = '(profile)',
  ) {
    super(formatProblems(file ?? 'k8s-ha', problems, text, root));
    this.name = 'ProblemError';
  }

  /** The same problems placed in `file` when they were raised without one (bundle checks of a plan); else this. */
  in(file: string): ProblemError {
    return this.file === undefined ? new ProblemError(file, this.problems, this.text, this.root) : this;
  }
}

/**
 * Throws a {@link ProblemError} with one error problem.
 * @param file what the problem is in; `k8s-ha` for the machine (a missing program), undefined
 *   when the caller does not know (a plan's checks: the command adds the profile).
 * @param root the report's name for an empty `path`; '' prints no `at …`.
 */
export function fail(code: CodeName, path: FieldPath, message: string, hint?: string, file?: string, root?: string): never {
  throw new ProblemError(file, [error(code, path, message, hint)], undefined, root);
}

/**
 * Formats problems Butane style, each as
 * `FILE:LINE:COL: error E020 at nodes[1].name: duplicate node name "cp-1"`, then (given the
 * profile's `text` and a position) the source line with a caret under the value, then
 * `  hint: …`. Problems without a position print `FILE: …` and no source line; with `root` ''
 * a problem without a path prints no `at …` (`k8s-ha: error E070: xorriso is not installed`).
 */
export function formatProblems(file: string, problems: Problem[], text?: string, root?: string): string {
  return problems
    .map((p) => {
      const pos = p.line !== undefined ? { line: p.line, col: p.col ?? 1 } : undefined;
      const at = formatPath(p.path, root);
      const out = [`${pos ? `${file}:${pos.line}:${pos.col}` : file}: ${p.severity} ${CODES[p.code]}${at ? ` at ${at}` : ''}: ${p.message}`];
      const excerpt = pos && text !== undefined ? sourceExcerpt(text, pos, p.path) : undefined;
      if (excerpt) out.push(excerpt);
      if (p.hint) out.push(`  hint: ${p.hint}`);
      return out.join('\n');
    })
    .join('\n');
}
