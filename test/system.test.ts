/**
 * The machine facts every command shares (src/system.ts) and the summary table.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from '../src/table.js';
import { findExecutable, pidAlive } from '../src/system.js';
import { testDir } from './helpers/tools.js';

// Serial: it changes the process's working directory, which concurrent tests share.
test.serial('findExecutable: PATH order, absolute names, and empty entries are not the working directory', async (t) => {
  t.is(await findExecutable('sh', '/nonexistent:/bin:/usr/bin'), '/bin/sh');
  t.is(await findExecutable('/bin/sh', ''), '/bin/sh');
  t.is(await findExecutable('sh', ''), undefined);
  const dir = testDir(t);
  writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
  chmodSync(join(dir, 'tool'), 0o755);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    t.is(await findExecutable('tool', '::'), undefined, 'an empty PATH entry does not mean "."');
  } finally {
    process.chdir(cwd);
  }
  t.is(await findExecutable('tool', dir), join(dir, 'tool'));
});

test('pidAlive: this process yes, an exited one no, and not 0, -1 or NaN (a lock file holding junk)', (t) => {
  t.true(pidAlive(process.pid));
  t.false(pidAlive(spawnSync('true').pid!));
  for (const junk of [0, -1, Number.NaN, 1.5]) t.false(pidAlive(junk), String(junk));
});

test('table: columns two spaces apart, no trailing spaces', (t) => {
  t.is(table([['A', 'BB', 'C'], ['long', 'x', '']]), 'A     BB  C\nlong  x');
});
