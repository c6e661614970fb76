// container/access.ts's lock primitive: the one that openContainer and delete share (taking a lock needs the
// native addon: the integration tests cover that, e.g. robustness.test.ts's delete --force of a crashed create).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockContainer, withLock } from '../../src/container/access';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-access-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('lockContainer / withLock', () => {
  it('a missing container: no lock, nothing created, missing() answers', () => {
    expect(lockContainer(root, 'nope')).toBeUndefined();
    expect(withLock(root, 'nope', () => 'locked', () => 'missing')).toBe('missing');
    expect(fs.existsSync(path.join(root, 'nope'))).toBe(false);
  });

  it('an invalid id is refused before any path is made of it', () => {
    expect(() => lockContainer(root, '../x')).toThrow(/id/);
  });
});
