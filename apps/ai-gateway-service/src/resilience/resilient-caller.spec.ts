import { captureLogger } from '@te/platform';
import { Registry } from 'prom-client';
import {
  ProviderError,
  type CallOptions,
  type Completion,
  type InferenceRequest,
  type ModelProvider,
  type StreamEvent,
} from '../providers/index.js';
import { ResilientCaller, type Candidate, type ResilienceSettings } from './resilient-caller.js';

type Step = (options: CallOptions) => Promise<string> | string;

/** A provider that plays its script, one step per call; `calls` counts what reached it. */
class ScriptedProvider implements ModelProvider {
  readonly kind = 'openai' as const;
  calls = 0;
  closed = 0;
  constructor(
    readonly id: string,
    private readonly steps: Step[],
  ) {}

  async complete(_request: InferenceRequest, options: CallOptions = {}): Promise<Completion> {
    const text = await this.next(options);
    return {
      text,
      finishReason: 'stop',
      usage: { inputTokens: 1, outputTokens: 1, estimated: false },
      providerModel: 'm',
      latencyMs: 1,
    };
  }

  async *stream(_request: InferenceRequest, options: CallOptions = {}): AsyncGenerator<StreamEvent> {
    try {
      const text = await this.next(options);
      for (const word of text.split(' ')) {
        if (word === '!break') throw unavailable(this.id).asPartial();
        yield { type: 'delta', text: word };
      }
      yield {
        type: 'done',
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1, estimated: false },
      };
    } finally {
      this.closed++;
    }
  }

  private async next(options: CallOptions): Promise<string> {
    const step = this.steps[Math.min(this.calls, this.steps.length - 1)];
    this.calls++;
    return step(options);
  }
}

const unavailable = (provider: string, extra: Partial<ConstructorParameters<typeof ProviderError>[2]> = {}) =>
  new ProviderError('UNAVAILABLE', 'The model provider is not available', {
    provider,
    retryable: true,
    reason: 'upstream_error',
    ...extra,
  });
const fails =
  (extra: Partial<ConstructorParameters<typeof ProviderError>[2]> = {}): Step =>
  () => {
    throw unavailable('x', extra);
  };
const answers =
  (text: string): Step =>
  () =>
    text;

const SETTINGS: ResilienceSettings = {
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 },
  breaker: { failureThreshold: 5, failureRatio: 1, windowMs: 60_000, minimumCalls: 100, coolDownMs: 60_000 },
  queueLimit: 10,
};

function setup(providers: ScriptedProvider[], settings: Partial<ResilienceSettings> = {}, limits = {}) {
  const registry = new Registry();
  const logs = captureLogger('resilience-test');
  const caller = new ResilientCaller({
    settings: { ...SETTINGS, ...settings },
    maxConcurrency: new Map(Object.entries(limits)),
    logger: logs.logger,
    registry,
  });
  const chain: Candidate[] = providers.map((provider) => ({
    name: `${provider.id}@1`,
    provider,
    request: {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      maxOutputTokens: 0,
    },
  }));
  return { caller, chain, registry, progress: { current: chain[0] } };
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    return error as ProviderError;
  }
  throw new Error('expected a failure');
}

async function collect(iterable: AsyncIterable<{ candidate: Candidate; event: StreamEvent }>) {
  const seen: string[] = [];
  try {
    for await (const { candidate, event } of iterable)
      seen.push(`${candidate.name}:${event.type === 'delta' ? event.text : 'done'}`);
    return { seen };
  } catch (error) {
    return { seen, error: error as ProviderError };
  }
}

describe('resilient caller', () => {
  it('When a retryable failure is followed by an answer, then the same version answers after a retry', async () => {
    const a = new ScriptedProvider('a', [fails(), answers('ok')]);
    const { caller, chain, progress, registry } = setup([a]);
    const { candidate, completion } = await caller.complete(chain, {}, progress);
    expect(candidate.name).toBe('a@1');
    expect(completion.text).toBe('ok');
    expect(a.calls).toBe(2);
    expect(await registry.metrics()).toContain(
      'ai_provider_retries_total{provider="a",code="UNAVAILABLE"} 1',
    );
  });

  it('When a version keeps failing, then after its attempts the next version of the chain answers', async () => {
    const a = new ScriptedProvider('a', [fails()]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress, registry } = setup([a, b]);
    const { candidate } = await caller.complete(chain, {}, progress);
    expect(candidate.name).toBe('b@1');
    expect(progress.current.name).toBe('b@1');
    expect([a.calls, b.calls]).toEqual([3, 1]);
    expect(await registry.metrics()).toContain(
      'ai_inference_fallbacks_total{from_provider="a",to_provider="b"} 1',
    );
  });

  it('When every version fails, then the last provider error is thrown and progress names its version', async () => {
    const a = new ScriptedProvider('a', [fails()]);
    const b = new ScriptedProvider('b', [fails({ retryable: false, reason: 'provider_auth' })]);
    const { caller, chain, progress } = setup([a, b]);
    const error = await rejection(caller.complete(chain, {}, progress));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'provider_auth' });
    expect(progress.current.name).toBe('b@1');
    expect([a.calls, b.calls]).toEqual([3, 1]);
  });

  it('When the provider refuses the request as invalid, then nothing is retried or replaced', async () => {
    const invalid: Step = () => {
      throw new ProviderError('VALIDATION_FAILED', 'The model provider rejected the request', {
        provider: 'a',
        retryable: false,
        reason: 'rejected',
      });
    };
    const a = new ScriptedProvider('a', [invalid]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b]);
    expect((await rejection(caller.complete(chain, {}, progress))).code).toBe('VALIDATION_FAILED');
    expect([a.calls, b.calls]).toEqual([1, 0]);
  });

  it('When the provider does not know the model, then the next version answers without a retry', async () => {
    const a = new ScriptedProvider('a', [
      () => {
        throw new ProviderError('NOT_FOUND', 'no such model', {
          provider: 'a',
          retryable: false,
          reason: 'model_not_found',
        });
      },
    ]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b]);
    expect((await caller.complete(chain, {}, progress)).candidate.name).toBe('b@1');
    expect(a.calls).toBe(1);
    expect(caller.guard('a').breaker.state).toBe('closed');
  });

  it('When Retry-After is longer than the cap, then the next version answers at once', async () => {
    const a = new ScriptedProvider('a', [fails({ reason: 'rate_limited', retryAfterMs: 60_000 })]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b]);
    const started = Date.now();
    expect((await caller.complete(chain, {}, progress)).candidate.name).toBe('b@1');
    expect(a.calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('When the caller cancels during the back-off, then nothing more is called', async () => {
    const controller = new AbortController();
    const a = new ScriptedProvider('a', [
      () => {
        setTimeout(() => controller.abort(new Error('gone')), 20);
        throw unavailable('a', { retryAfterMs: 500 });
      },
      answers('too late'),
    ]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b]);
    const error = await rejection(caller.complete(chain, { signal: controller.signal }, progress));
    expect(error).toMatchObject({ reason: 'cancelled' });
    expect([a.calls, b.calls]).toEqual([1, 0]);
  });

  it('When a provider’s circuit is open, then its versions are skipped without a call until the cool-down', async () => {
    const a = new ScriptedProvider('a', [fails()]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress, registry } = setup([a, b], {
      breaker: { ...SETTINGS.breaker, failureThreshold: 3 },
    });
    await caller.complete(chain, {}, progress);
    expect(a.calls).toBe(3);
    expect(caller.guard('a').breaker.state).toBe('open');
    await caller.complete(chain, {}, progress);
    expect(a.calls).toBe(3);
    expect(b.calls).toBe(2);
    const metrics = await registry.metrics();
    expect(metrics).toContain('ai_provider_circuit_state{provider="a"} 2');
    expect(metrics).toContain('ai_provider_refusals_total{provider="a",reason="circuit_open"} 1');
    // Alone in its chain, the open circuit is the caller's answer.
    const error = await rejection(caller.complete(chain.slice(0, 1), {}, progress));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'circuit_open' });
  });

  it('When a provider’s slots and queue are full, then the call moves on to the next version, or is RATE_LIMITED', async () => {
    let finish!: (text: string) => void;
    const a = new ScriptedProvider('a', [() => new Promise<string>((resolve) => (finish = resolve))]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b], { queueLimit: 0 }, { a: 1 });
    const holding = caller.complete(chain, {}, { current: chain[0] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.calls).toBe(1);

    expect((await caller.complete(chain, {}, progress)).candidate.name).toBe('b@1');
    const alone = await rejection(caller.complete(chain.slice(0, 1), {}, progress));
    expect(alone).toMatchObject({ code: 'RATE_LIMITED', reason: 'queue_full' });
    expect(alone.message).toContain('"a" is busy');
    expect(a.calls).toBe(1);

    finish('from a');
    expect((await holding).completion.text).toBe('from a');
    expect(caller.guard('a').limiter.inFlight).toBe(0);
    expect(caller.guard('a').breaker.state).toBe('closed');
  });

  it('When a stream fails before its first event, then the next version streams', async () => {
    const a = new ScriptedProvider('a', [fails()]);
    const b = new ScriptedProvider('b', [answers('hello there')]);
    const { caller, chain, progress } = setup([a, b], { retry: { ...SETTINGS.retry, maxAttempts: 1 } });
    const { seen, error } = await collect(
      caller.stream(chain, {}, progress, (candidate, call) =>
        candidate.provider.stream(candidate.request, call),
      ),
    );
    expect(error).toBeUndefined();
    expect(seen).toEqual(['b@1:hello', 'b@1:there', 'b@1:done']);
  });

  it('When a stream breaks after its first delta, then it fails without a retry or fallback', async () => {
    const a = new ScriptedProvider('a', [answers('hello !break'), answers('again')]);
    const b = new ScriptedProvider('b', [answers('from b')]);
    const { caller, chain, progress } = setup([a, b]);
    const { seen, error } = await collect(
      caller.stream(chain, {}, progress, (candidate, call) =>
        candidate.provider.stream(candidate.request, call),
      ),
    );
    expect(seen).toEqual(['a@1:hello']);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', partial: true });
    expect([a.calls, b.calls]).toEqual([1, 0]);
    expect(progress.current.name).toBe('a@1');
  });

  it('When the consumer stops a stream early, then the provider stream is closed and its slot freed', async () => {
    const a = new ScriptedProvider('a', [answers('one two three')]);
    const { caller, chain, progress } = setup([a], {}, { a: 1 });
    for await (const { event } of caller.stream(chain, {}, progress, (candidate, call) =>
      candidate.provider.stream(candidate.request, call),
    )) {
      expect(event).toEqual({ type: 'delta', text: 'one' });
      break;
    }
    expect(a.closed).toBe(1);
    expect(caller.guard('a').limiter.inFlight).toBe(0);
    expect(caller.guard('a').breaker.state).toBe('closed');
  });
});
