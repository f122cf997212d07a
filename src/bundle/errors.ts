import { error, type CodeName, type Problem } from '../profile/errors.js';

/**
 * The one error type of the bundle code: a bad value in the profile's `[boot]` section or in
 * a node's boot or network settings, or an output over its size limit. The commands turn it
 * into a profile {@link Problem} (`FILE: error E030 at boot.assetsUrl: ...`) and exit 1.
 */
export class BundleError extends Error {
  /**
   * @param code Stable problem code (src/profile/errors.ts CODES).
   * @param field Field path of the offending value, e.g. `boot.assetsUrl` or `nodes[2].mac`.
   * @param detail What is wrong and what was expected.
   * @param hint How to fix it.
   */
  constructor(
    readonly code: CodeName,
    readonly field: string,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(`${field}: ${detail}${hint ? ` (hint: ${hint})` : ''}`);
    this.name = 'BundleError';
  }

  /** The same error as a profile problem, for `formatProblems`. */
  toProblem(): Problem {
    // `nodes[2].mac` -> ['nodes', 2, 'mac'], the path form the profile's problems use.
    const path = (this.field.match(/[^.[\]]+|\[\d+\]/g) ?? []).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
    return error(this.code, path, this.detail, this.hint);
  }
}
