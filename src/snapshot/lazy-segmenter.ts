/**
 * Stand-in for `Intl.Segmenter` in the startup-snapshot bundle (scripts/bundle.mjs replaces
 * `Intl.Segmenter` with this class there, and only there).
 *
 * Why: string-width (used by yargs' help layout through cliui) creates an `Intl.Segmenter` when
 * its module loads. That is an ICU object, which V8 cannot put in a startup snapshot: building
 * one fails with "global handle not serialized". This class takes the constructor arguments
 * and makes the real segmenter on first use, after the snapshot has been deserialized.
 */
export class LazySegmenter {
  readonly #args: ConstructorParameters<typeof Intl.Segmenter>;
  #real: Intl.Segmenter | undefined;

  constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
    this.#args = args;
  }

  /** The real segmenter, made on first call (Reflect.get: the bundler's rename must not apply here). */
  #get(): Intl.Segmenter {
    const Real = Reflect.get(Intl, 'Segmenter') as typeof Intl.Segmenter;
    return (this.#real ??= new Real(...this.#args));
  }

  segment(input: string): Intl.Segments {
    return this.#get().segment(input);
  }

  resolvedOptions(): Intl.ResolvedSegmenterOptions {
    return this.#get().resolvedOptions();
  }
}
