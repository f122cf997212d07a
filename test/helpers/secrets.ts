/**
 * Fixed cluster secrets for tests that compare outputs (golden files) or need no fresh CA:
 * fixtures/secrets/test.secrets.json, a test-only CA and token made once with
 * `generateSecrets(new Date('2026-01-01T00:00:00Z'))`. Never use them for a real cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSecrets } from '../../src/secrets/store.js';
import { ROOT } from './cli.js';

/** Path of the fixture secrets file (for `render --secrets`). */
export const FIXTURE_SECRETS_FILE = join(ROOT, 'fixtures', 'secrets', 'test.secrets.json');

/** The fixture secrets, parsed and validated. */
export const FIXTURE_SECRETS = parseSecrets(readFileSync(FIXTURE_SECRETS_FILE, 'utf8'), FIXTURE_SECRETS_FILE);
