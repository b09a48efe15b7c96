import type { Logger } from '@te/platform';
import { CallControl } from './call-control.js';
import { errorForStatus, ProviderError, sanitiseProviderMessage } from './provider-error.js';
import type { HttpProviderSettings } from './provider-config.js';
import type {
  CallOptions,
  Completion,
  InferenceRequest,
  ModelProvider,
  ProviderKind,
  StreamEvent,
} from './provider.js';
import { readSse, type SseEvent } from './sse.js';
import { validateInferenceRequest } from './validate-request.js';

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface ProviderDependencies {
  logger?: Logger;
}

/**
 * What the OpenAI-compatible and Anthropic adapters share: one POST per call through the global fetch
 * (undici), deadline and cancellation, HTTP status → stable code, JSON and SSE reading, outcome logs.
 * The API key lives in a private field and is handed only to `buildRequest`'s headers, so neither a
 * logged provider object nor an error can carry it.
 */
export abstract class HttpModelProvider implements ModelProvider {
  abstract readonly kind: ProviderKind;
  readonly id: string;
  protected readonly settings: Omit<HttpProviderSettings, 'apiKey'>;
  readonly #apiKey?: string;
  private readonly logger?: Logger;

  constructor(settings: HttpProviderSettings, dependencies: ProviderDependencies = {}) {
    const { apiKey, ...rest } = settings;
    this.id = settings.id;
    this.settings = rest;
    this.#apiKey = apiKey;
    this.logger = dependencies.logger;
  }

  protected abstract buildRequest(request: InferenceRequest, stream: boolean, apiKey?: string): WireRequest;
  protected abstract parseCompletion(body: unknown, request: InferenceRequest): Omit<Completion, 'latencyMs'>;
  /** Provider events → deltas and one `done`; throws ProviderError when the provider reports one. */
  protected abstract parseStream(
    events: AsyncIterable<SseEvent>,
    request: InferenceRequest,
  ): AsyncIterable<StreamEvent>;
  /** The provider's own message in an error body, if it has one. */
  protected abstract errorMessage(body: unknown): string | undefined;

  async complete(request: InferenceRequest, options: CallOptions = {}): Promise<Completion> {
    validateInferenceRequest(request);
    const started = performance.now();
    const control = new CallControl(this.id, options, this.settings.timeoutMs);
    try {
      const response = await this.send(request, false, control);
      const body = await this.readJson(response);
      const completion = {
        ...this.parseCompletion(body, request),
        latencyMs: Math.round(performance.now() - started),
      };
      this.logger?.debug(
        'Model provider answered',
        this.logFields(request, started, { finish_reason: completion.finishReason }),
      );
      return completion;
    } catch (error) {
      const failure = control.classify(error);
      this.logFailure(request, started, failure);
      throw failure;
    } finally {
      control.dispose();
    }
  }

  async *stream(request: InferenceRequest, options: CallOptions = {}): AsyncGenerator<StreamEvent> {
    validateInferenceRequest(request);
    const started = performance.now();
    const control = new CallControl(this.id, options, this.settings.timeoutMs);
    let delivered = false;
    try {
      const response = await this.send(request, true, control);
      for await (const event of this.parseStream(this.events(response, control), request)) {
        if (event.type === 'delta') delivered = true;
        yield event;
        if (event.type === 'done') {
          this.logger?.debug(
            'Model provider streamed',
            this.logFields(request, started, { finish_reason: event.finishReason }),
          );
          return;
        }
      }
      throw new ProviderError('UNAVAILABLE', 'The model provider ended the stream early', {
        provider: this.id,
        retryable: true,
        reason: 'stream_truncated',
      });
    } catch (error) {
      let failure = control.classify(error);
      if (delivered) failure = failure.asPartial();
      this.logFailure(request, started, failure);
      throw failure;
    } finally {
      control.dispose();
    }
  }

  private async send(request: InferenceRequest, stream: boolean, control: CallControl): Promise<Response> {
    const wire = this.buildRequest(request, stream, this.#apiKey);
    const response = await fetch(wire.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...wire.headers },
      body: JSON.stringify(wire.body),
      signal: control.signal,
    });
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    throw errorForStatus({
      provider: this.id,
      status: response.status,
      headers: response.headers,
      providerMessage: this.errorMessage(parseJsonOrUndefined(text)),
      model: request.model,
      secrets: this.secrets(),
    });
  }

  private async readJson(response: Response): Promise<unknown> {
    const text = await response.text();
    const body = parseJsonOrUndefined(text);
    if (body === undefined) throw this.badResponse('The model provider sent an answer that is not JSON');
    return body;
  }

  // Between chunks the provider has `timeoutMs` to send something; while our consumer holds an event
  // (a slow client downstream) the timer is off.
  private async *events(response: Response, control: CallControl): AsyncGenerator<SseEvent> {
    if (!response.body) throw this.badResponse('The model provider sent no stream');
    const iterator = readSse(response.body)[Symbol.asyncIterator]();
    try {
      for (;;) {
        control.armIdle(this.settings.timeoutMs);
        const next = await iterator.next();
        control.disarmIdle();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      control.disarmIdle();
      await iterator.return?.(undefined);
    }
  }

  protected badResponse(message: string): ProviderError {
    return new ProviderError('UNAVAILABLE', message, {
      provider: this.id,
      retryable: true,
      reason: 'bad_response',
    });
  }

  /** Parses one stream event's JSON, or fails the stream as a bad response. */
  protected eventJson(event: SseEvent): Record<string, unknown> {
    const value = parseJsonOrUndefined(event.data);
    if (value === null || typeof value !== 'object')
      throw this.badResponse('The model provider sent a stream event that is not JSON');
    return value as Record<string, unknown>;
  }

  protected sanitise(message: unknown): string {
    return sanitiseProviderMessage(message, this.secrets());
  }

  private secrets(): string[] {
    return this.#apiKey ? [this.#apiKey] : [];
  }

  private logFields(request: InferenceRequest, started: number, extra: Record<string, unknown>) {
    return {
      provider: this.id,
      provider_kind: this.kind,
      model: request.model,
      latency_ms: Math.round(performance.now() - started),
      ...extra,
    };
  }

  private logFailure(request: InferenceRequest, started: number, failure: ProviderError): void {
    this.logger?.warn(
      'Model provider call failed',
      this.logFields(request, started, {
        code: failure.code,
        reason: failure.reason,
        upstream_status: failure.upstreamStatus,
        retryable: failure.retryable,
        partial: failure.partial,
        error: failure.message,
        cause: failure.cause instanceof Error ? failure.cause.message : undefined,
      }),
    );
  }
}

export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{baseUrl}/{path}` without doubled slashes; the base URL keeps its own path (Azure deployments, /v1). */
export function joinUrl(
  baseUrl: string,
  path: string,
  query: Record<string, string | undefined> = {},
): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}
