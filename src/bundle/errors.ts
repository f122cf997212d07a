import { error, formatPath, type CodeName, type FieldPath, type Problem } from '../profile/errors.js';

/**
 * The one error type of the bundle code: a bad value in the profile's `[boot]` section or in
 * a node's boot or network settings, or an output over its size limit. The commands turn it
 * into a profile {@link Problem} (`FILE: error E030 at boot.assetsUrl: ...`) and exit 1.
 */
export class BundleError extends Error {
  /**
   * @param code Stable problem code (src/profile/errors.ts CODES).
   * @param path Field path of the offending value, as profile problems carry it, e.g.
   *   `['boot', 'assetsUrl']` or `['nodes', 2, 'mac']`; a command-line flag is `['--max-user-data']`.
   * @param detail What is wrong and what was expected.
   * @param hint How to fix it.
   */
  constructor(
    readonly code: CodeName,
    readonly path: FieldPath,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(`${formatPath(path)}: ${detail}${hint ? ` (hint: ${hint})` : ''}`);
    this.name = 'BundleError';
  }

  /** The same error as a profile problem, for `formatProblems`. */
  toProblem(): Problem {
    return error(this.code, this.path, this.detail, this.hint);
  }
}
