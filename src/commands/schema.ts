/**
 * `k8s-ha schema`: prints the profile's JSON Schema (draft 2020-12), generated from the very
 * zod schema the CLI validates with (profile/schema.ts), so editors check and complete
 * profiles: Taplo (TOML) via a `#:schema ./k8s-ha.schema.json` first line, yaml-language-server
 * via `# yaml-language-server: $schema=./k8s-ha.schema.json`. profiles/k8s-ha.schema.json is
 * this command's output (a test keeps it up to date).
 *
 * Rules written as refinements (address syntax, DNS names, cross-field checks) have no JSON
 * Schema form: the schema gives keys, types, required fields and numeric ranges; `k8s-ha check`
 * remains the full validator.
 */
import type { CommandModule } from 'yargs';

export const schemaCommand: CommandModule = {
  command: 'schema',
  describe: "Print the profile's JSON Schema (for editors: Taplo, yaml-language-server)",
  handler: async () => {
    const { profileJsonSchema } = await import('../profile/json-schema.js');
    process.stdout.write(profileJsonSchema());
  },
};
