/**
 * JSON Schema (draft-07) of the autoinstall documents k8s-ha emits (src/bundle/autoinstall.ts), written
 * from subiquity's published schema and reference (canonical/subiquity,
 * doc/reference/autoinstall-schema.rst and doc/reference/autoinstall-reference.rst; Ubuntu
 * Server docs "Autoinstall schema"). It covers only the keys we emit and is stricter than
 * subiquity's in these ways:
 * - the top level holds `autoinstall` only (subiquity refuses autoinstall keys outside it when
 *   the document comes as cloud-config);
 * - `autoinstall` allows only the keys we write (`additionalProperties: false`) and requires
 *   `version`, `storage` and `user-data` (the reference: `identity` is required unless
 *   `user-data` is present);
 * - `version` is the integer 1 (subiquity: integer, minimum 1, maximum 1);
 * - `storage` (an untyped object in subiquity's schema) must be a `direct` layout with a
 *   match spec on `path` (reference, "storage": layouts `lvm`, `direct`, `zfs`, match keys);
 * - `network` is Netplan version 2 at the top (subiquity accepts that form or one nested under
 *   another `network`), its ethernets with `addresses`, `routes`, `nameservers` and a `match`
 *   by MAC with `set-name`, as src/bundle/network.ts writes them;
 * - `user-data` is an object (as in subiquity's schema): the cloud-config of the installed
 *   system, which tests check with cloud-init's own schema.
 */
export const AUTOINSTALL_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'k8s-ha-autoinstall.schema.json',
  title: 'k8s-ha autoinstall user-data',
  type: 'object',
  required: ['autoinstall'],
  additionalProperties: false,
  properties: {
    autoinstall: {
      type: 'object',
      required: ['version', 'storage', 'user-data'],
      additionalProperties: false,
      properties: {
        version: { type: 'integer', minimum: 1, maximum: 1 },
        storage: {
          type: 'object',
          required: ['layout'],
          additionalProperties: false,
          properties: {
            layout: {
              type: 'object',
              required: ['name', 'match'],
              additionalProperties: false,
              properties: {
                name: { enum: ['direct'] },
                match: {
                  type: 'object',
                  required: ['path'],
                  additionalProperties: false,
                  properties: { path: { type: 'string', pattern: '^/dev/[^\\s]+$' } },
                },
              },
            },
          },
        },
        network: {
          type: 'object',
          required: ['version', 'ethernets'],
          additionalProperties: false,
          properties: {
            version: { type: 'integer', minimum: 2, maximum: 2 },
            ethernets: {
              type: 'object',
              minProperties: 1,
              additionalProperties: {
                type: 'object',
                required: ['addresses'],
                additionalProperties: false,
                properties: {
                  match: {
                    type: 'object',
                    required: ['macaddress'],
                    additionalProperties: false,
                    properties: { macaddress: { type: 'string', pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' } },
                  },
                  'set-name': { type: 'string', minLength: 1, maxLength: 15 },
                  addresses: { type: 'array', minItems: 1, items: { type: 'string', pattern: '/[0-9]{1,3}$' } },
                  routes: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['to', 'via'],
                      additionalProperties: false,
                      properties: { to: { enum: ['0.0.0.0/0', '::/0'] }, via: { type: 'string', minLength: 1 } },
                    },
                  },
                  nameservers: {
                    type: 'object',
                    required: ['addresses'],
                    additionalProperties: false,
                    properties: { addresses: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
                  },
                },
              },
            },
          },
        },
        'user-data': { type: 'object' },
      },
    },
  },
} as const;
