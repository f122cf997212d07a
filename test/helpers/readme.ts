/** The README's code examples, which tests compile, run or parse so that they stay true. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** The fenced code block of `lang` that follows the marker comment `<!-- name -->` in README.md. */
export function readmeBlock(name: string, lang: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- ${name} -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no \`\`\`${lang} block after <!-- ${name} -->`);
  return m[1]!;
}
