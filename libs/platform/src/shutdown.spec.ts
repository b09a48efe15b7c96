import { Health } from './health.js';
import { captureLogger } from './log-capture.js';
import { closeInOrder, installShutdownHandlers } from './shutdown.js';

describe('closeInOrder', () => {
  it('When a step fails, then it is logged and the later steps still run in order', async () => {
    const { logger, lines } = captureLogger('svc');
    const order: string[] = [];
    await closeInOrder(logger, [
      [
        'http',
        async () => {
          order.push('http');
        },
      ],
      [
        'consumers',
        async () => {
          order.push('consumers');
          throw new Error('cancel failed');
        },
      ],
      [
        'database',
        async () => {
          order.push('database');
        },
      ],
    ]);
    expect(order).toEqual(['http', 'consumers', 'database']);
    expect(lines().find((l) => l.message === 'close step failed')).toMatchObject({ step: 'consumers' });
  });
});

describe('installShutdownHandlers', () => {
  const signal = 'SIGUSR2' as NodeJS.Signals;
  afterEach(() => process.removeAllListeners(signal));

  it('When the signal arrives, then readiness fails first, the drain delay passes, stop runs and the exit code is 0', async () => {
    const { logger } = captureLogger('svc');
    const health = new Health();
    const events: string[] = [];
    const exited = new Promise<number>((resolve) => {
      installShutdownHandlers({
        logger,
        health,
        graceMs: 2_000,
        drainDelayMs: 50,
        signals: [signal],
        stop: async () => {
          events.push(`stop (ready=${(await health.readiness()).ready})`);
        },
        exit: (code) => resolve(code),
      });
    });
    const started = Date.now();
    process.emit(signal, signal);
    expect(health.shuttingDown).toBe(true);
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(events).toEqual(['stop (ready=false)']);
  });

  it('When stop outlives the grace period, then the process exits with 1 and says so', async () => {
    const { logger, lines } = captureLogger('svc');
    const exited = new Promise<number>((resolve) => {
      installShutdownHandlers({
        logger,
        health: new Health(),
        graceMs: 60,
        drainDelayMs: 0,
        signals: [signal],
        stop: () => new Promise(() => undefined),
        exit: (code) => resolve(code),
      });
    });
    process.emit(signal, signal);
    expect(await exited).toBe(1);
    expect(lines().some((l) => String(l.message).includes('exceeded its grace period'))).toBe(true);
  });

  it('When stop throws, then the exit code is 1', async () => {
    const { logger } = captureLogger('svc');
    const exited = new Promise<number>((resolve) => {
      installShutdownHandlers({
        logger,
        health: new Health(),
        graceMs: 1_000,
        drainDelayMs: 0,
        signals: [signal],
        stop: async () => {
          throw new Error('db close failed');
        },
        exit: (code) => resolve(code),
      });
    });
    process.emit(signal, signal);
    expect(await exited).toBe(1);
  });
});
