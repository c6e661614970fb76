// The init stub's own checks (test/native/driver.mjs drives build/runts-init with hand-written plans).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { hasProgram } from '../helpers';

// the driver compiles its helper programs with cc
if (!hasProgram('cc')) console.log('no C compiler (cc) on PATH: the init stub checks are not run');

describe('init stub', () => {
  it.skipIf(!hasProgram('cc'))('passes every check of test/native/driver.mjs', () => {
    const r = spawnSync('node', [path.join(__dirname, 'driver.mjs')], { encoding: 'utf8', timeout: 120_000 });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(r.status, `${r.stdout.split('\n').filter((l) => l.includes('FAIL')).join('\n')}\n${r.stderr}`).toBe(0);
    expect(last).toMatch(/^PASS: (\d+)\/\1 checks passed$/);
  });
});
