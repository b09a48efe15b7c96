import { nextHealth } from './target-health.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, seconds));
const DAY = 86_400_000;

describe('nextHealth', () => {
  it('When an attempt succeeds after failures, then the target recovered; with none, nothing changes', () => {
    const attempt = { succeeded: true, sentAt: at(0), finishedAt: at(1) };
    expect(nextHealth({ enabled: true, failingSince: at(-60) }, attempt, DAY)).toEqual({ kind: 'recovered' });
    expect(nextHealth({ enabled: true, failingSince: null }, attempt, DAY)).toEqual({ kind: 'none' });
  });

  it('When the first failure comes, then a run of failures starts at its send time; later ones change nothing', () => {
    const attempt = { succeeded: false, sentAt: at(0), finishedAt: at(1) };
    expect(nextHealth({ enabled: true, failingSince: null }, attempt, DAY)).toEqual({
      kind: 'failing',
      failingSince: at(0),
    });
    expect(nextHealth({ enabled: true, failingSince: at(-5) }, attempt, DAY)).toEqual({ kind: 'none' });
  });

  it('When failures have lasted disableAfterMs, or the receiver says it is gone, then disable', () => {
    const late = { succeeded: false, sentAt: at(59), finishedAt: at(60) };
    expect(nextHealth({ enabled: true, failingSince: at(0) }, late, 60_000)).toEqual({
      kind: 'disable',
      reason: 'failing',
      failingSince: at(0),
    });
    const gone = { succeeded: false, disableReason: 'gone', sentAt: at(0), finishedAt: at(1) };
    expect(nextHealth({ enabled: true, failingSince: null }, gone, DAY)).toEqual({
      kind: 'disable',
      reason: 'gone',
      failingSince: at(0),
    });
  });

  it('When the target is already disabled, then a failure changes nothing', () => {
    const attempt = { succeeded: false, disableReason: 'gone', sentAt: at(0), finishedAt: at(1) };
    expect(nextHealth({ enabled: false, failingSince: at(-5) }, attempt, DAY)).toEqual({ kind: 'none' });
  });
});
