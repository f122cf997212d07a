/**
 * The one error type of the bundle code: a bad value in the profile's `[boot]` section or in
 * a node's boot or network settings. Commands print `field: message (hint)` and exit 1.
 */
export class BundleError extends Error {
  /**
   * @param field Field path of the offending value, e.g. `boot.assetsUrl` or `nodes[2].mac`.
   * @param message What is wrong and what was expected.
   * @param hint How to fix it, when there is more to say.
   */
  constructor(
    readonly field: string,
    message: string,
    readonly hint?: string,
  ) {
    super(`${field}: ${message}${hint ? ` (hint: ${hint})` : ''}`);
    this.name = 'BundleError';
  }
}
