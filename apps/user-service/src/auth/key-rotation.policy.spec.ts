import {
  CLOCK_SKEW_MARGIN_SECONDS,
  currentSigner,
  isPublished,
  planRotation,
  type KeySchedule,
} from './key-rotation.policy.js';

const settings = { rotationDays: 30, publishAheadSeconds: 600, accessTokenTtlSeconds: 900 };
const DAY = 24 * 3600_000;
const now = new Date('2026-11-25T00:00:00Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
const key = (kid: string, schedule: Partial<KeySchedule> = {}): KeySchedule => ({
  kid,
  publishedAt: at(-40 * DAY),
  activatesAt: at(-40 * DAY),
  retiresAt: null,
  expiresAt: null,
  ...schedule,
});

describe('key rotation policy', () => {
  it('When the ring is empty, then a key that signs at once is created (bootstrap and rotation alike)', () => {
    for (const mode of ['bootstrap', 'rotate'] as const) {
      expect(planRotation([], now, settings, mode)).toEqual({
        create: { publishedAt: now, activatesAt: now },
        retire: [],
      });
    }
  });

  it('When the signer is younger than the rotation period, then nothing changes', () => {
    expect(planRotation([key('a', { activatesAt: at(-29 * DAY) })], now, settings, 'rotate')).toEqual({
      retire: [],
    });
  });

  it('When the signer is older than the period, then a key is published ahead and the old one retires as it activates, staying published for the token lifetime plus the skew margin', () => {
    const plan = planRotation([key('old')], now, settings, 'rotate');
    const activatesAt = at(600_000);
    expect(plan.create).toEqual({ publishedAt: now, activatesAt });
    expect(plan.retire).toEqual([
      {
        kid: 'old',
        retiresAt: activatesAt,
        expiresAt: new Date(activatesAt.getTime() + (900 + CLOCK_SKEW_MARGIN_SECONDS) * 1000),
      },
    ]);
  });

  it('When only bootstrapping, then an old signer is left alone (rotation is the scheduled job’s)', () => {
    expect(planRotation([key('old')], now, settings, 'bootstrap')).toEqual({ retire: [] });
  });

  it('When a successor is already pending, then no second one is created', () => {
    const keys = [
      key('old', { retiresAt: at(300_000), expiresAt: at(1_500_000) }),
      key('next', { publishedAt: at(-300_000), activatesAt: at(300_000) }),
    ];
    expect(planRotation(keys, now, settings, 'rotate')).toEqual({ retire: [] });
  });

  it('When keys overlap, then the newest active one signs and every unexpired one is published', () => {
    const keys = [
      key('old', { retiresAt: at(-1000), expiresAt: at(900_000) }),
      key('new', { publishedAt: at(-600_000), activatesAt: at(-1000) }),
      key('gone', { retiresAt: at(-DAY), expiresAt: at(-1000) }),
    ];
    expect(currentSigner(keys, now)?.kid).toBe('new');
    expect(keys.filter((k) => isPublished(k, now)).map((k) => k.kid)).toEqual(['old', 'new']);
    expect(currentSigner(keys, at(-2000))?.kid).toBe('old');
  });
});
