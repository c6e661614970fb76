// process.cwd → the two CHDIR steps: the planner says in each step what a refused chdir means, so the stub
// keeps no state of its own about it (whether USER has run).
import { describe, expect, it } from 'vitest';
import { processSteps } from '../../src/plan/process';
import { ChdirHow } from '../../src/plan/ops';
import { fakeFacts } from './fakefacts';

const spec = (uid: number): any => ({
  ociVersion: '1.3.0',
  process: { args: ['true'], cwd: '/srv/app', user: { uid, gid: uid } },
  linux: {},
});

describe('CHDIR steps', () => {
  for (const uid of [0, 1000]) {
    it(`uid ${uid}: before USER a refusal is skipped, after USER it is no error when already there`, () => {
      const p = processSteps(spec(uid), { facts: fakeFacts() });
      const ops = p.setup.map((s) => s.op).filter((op) => op === 'CHDIR' || op === 'USER');
      expect(ops).toEqual(['CHDIR', 'USER', 'CHDIR']);
      const chdirs = p.setup.filter((s) => s.op === 'CHDIR').map((s) => s.args.map((a) => a.v));
      expect(chdirs).toEqual([['/srv/app', ChdirHow.REFUSAL_OK], ['/srv/app', ChdirHow.SAME_OK]]);
    });
  }
});
