import { describeExit, exitedCleanly } from './exit-report.js';

describe('exit reports', () => {
  const base = { name: 'svc', code: null, signal: null, forced: false };

  it('When a process exits 0 or by our SIGTERM, then it stopped cleanly', () => {
    expect(exitedCleanly({ ...base, code: 0 })).toBe(true);
    expect(exitedCleanly({ ...base, signal: 'SIGTERM' })).toBe(true);
    expect(describeExit({ ...base, code: 0 })).toBe('exit code 0');
    expect(describeExit({ ...base, signal: 'SIGTERM' })).toBe('ended by SIGTERM');
  });

  it('When a process fails, is killed or never started, then it did not stop cleanly', () => {
    expect(exitedCleanly({ ...base, code: 1 })).toBe(false);
    expect(exitedCleanly({ ...base, signal: 'SIGKILL', forced: true })).toBe(false);
    expect(exitedCleanly({ ...base, error: 'spawn node ENOENT' })).toBe(false);
    expect(describeExit({ ...base, signal: 'SIGKILL', forced: true })).toBe(
      'killed with SIGKILL (did not stop in time)',
    );
    expect(describeExit({ ...base, error: 'spawn node ENOENT' })).toBe('could not start: spawn node ENOENT');
  });
});
