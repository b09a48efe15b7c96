import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '@te/platform';
import { waitFor, echo, streamScript, type FakeAiGateway } from '@te/testing';
import type { ContextServiceProcess } from './support/context-service.process.js';
import {
  call,
  startGateway,
  startMessagingStack,
  type Envelope,
  type MessagingStack,
  type RunningGateway,
} from './support/gateway.harness.js';
import type { UserServiceProcess } from './support/user-service.process.js';

interface Message {
  id: string;
  role: string;
  content: string;
  status: string;
  model: string | null;
  reply_to: string | null;
}
interface SseEvent {
  event: string;
  data: string;
}

/**
 * A small incremental parser of the WHATWG event stream format
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end with CRLF, LF or CR; `event:` names the event, `data:` lines are joined with LF, a blank
 * line dispatches, lines starting with `:` are comments. Yields each event as soon as its blank line
 * arrives, so a test sees whether the server flushed it.
 */
async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let match = /\r\n|\n|\r/.exec(buffer); match; match = /\r\n|\n|\r/.exec(buffer)) {
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (match[0] === '\r' && match.index === buffer.length - 1) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

// Gateway → real context-service process → a fake AI gateway (te.ai.v1 with InferStream on loopback),
// over real HTTP; the SSE stream is read with fetch as a browser's fetch-based client would.
let stack: MessagingStack;
let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let ai: FakeAiGateway;
let gateway: RunningGateway;
let token: string;

beforeAll(async () => {
  stack = await startMessagingStack();
  ({ ai, userService, contextService, gateway, token } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

beforeEach(() => {
  ai.state.behaviour = echo;
  ai.state.streamBehaviour = streamScript();
});

const api = <T>(method: string, path: string, json?: unknown, baseUrl = gateway.baseUrl) =>
  call<T>(baseUrl, method, `/api/v1/sessions${path}`, {
    headers: { authorization: `Bearer ${token}` },
    ...(json !== undefined && { json }),
  });
const newSession = async () => (await api<{ session: { id: string } }>('POST', '', {})).body.data!.session.id;
const listed = async (sessionId: string) =>
  (await api<{ messages: Message[] }>('GET', `/${sessionId}/messages`)).body.data!.messages;

const postStream = (sessionId: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${gateway.baseUrl}/api/v1/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'stream', ...body }),
    ...(signal && { signal }),
  });

describe('POST /api/v1/sessions/:id/messages with mode "stream" (Server-Sent Events)', () => {
  test('When a message is streamed, then message, each delta as it is generated, then reply, and the reply is then listed', async () => {
    const sessionId = await newSession();
    // The fake holds the rest of the answer until the test has read the first delta over HTTP: a
    // gateway that buffered events would never let it through.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    ai.state.streamBehaviour = async function* (request, ctx) {
      const answer = await echo(request, ctx);
      yield { started: { inferenceId: answer.inferenceId, modelVersion: answer.modelVersion } };
      yield { delta: { text: 'It is ' } };
      await released;
      yield { delta: { text: 'a dialog.' } };
      yield { completed: { ...answer, text: 'It is a dialog.' } };
    };

    const response = await postStream(sessionId, { content: 'What is this?' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const events: SseEvent[] = [];
    for await (const event of readEvents(response.body!)) {
      events.push(event);
      if (event.event === 'delta' && events.filter((e) => e.event === 'delta').length === 1) release();
    }
    expect(events.map((event) => event.event)).toEqual(['message', 'delta', 'delta', 'reply']);
    const message = JSON.parse(events[0]!.data) as Message;
    const reply = JSON.parse(events[3]!.data) as Message;
    expect(message).toMatchObject({ role: 'user', status: 'stored', content: 'What is this?' });
    expect(events.slice(1, 3).map((event) => JSON.parse(event.data))).toEqual([
      { text: 'It is ' },
      { text: 'a dialog.' },
    ]);
    expect(reply).toMatchObject({
      role: 'assistant',
      status: 'completed',
      content: 'It is a dialog.',
      model: 'explainer@test-1',
      reply_to: message.id,
    });
    expect((await listed(sessionId)).map((m) => [m.id, m.content])).toEqual([
      [message.id, 'What is this?'],
      [reply.id, 'It is a dialog.'],
    ]);
  });

  test('When the request is refused before the stream starts, then it is a JSON envelope (404, 400)', async () => {
    const sessionId = await newSession();

    const missing = await postStream('0193a9d4-7c1e-7000-8000-000000000000', { content: 'hi' });
    const badModel = await postStream(sessionId, { content: 'hi', model: 'gpt-9' });

    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await missing.json()) as Envelope).error?.code).toBe('NOT_FOUND');
    expect(badModel.status).toBe(400);
    expect(((await badModel.json()) as Envelope).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'model', message: 'is not a model you may use' }],
    });
    expect(await listed(sessionId)).toEqual([]);
  });

  test('When the AI gateway fails mid-stream, then an error event in the envelope’s error shape ends the stream and only the user message stays', async () => {
    const sessionId = await newSession();
    ai.state.streamBehaviour = streamScript({
      deltas: ['Half '],
      error: new AppError('UNAVAILABLE', 'All providers failed'),
    });

    const response = await postStream(sessionId, { content: 'Go' });

    expect(response.status).toBe(200);
    const events: SseEvent[] = [];
    for await (const event of readEvents(response.body!)) events.push(event);
    expect(events.map((event) => event.event)).toEqual(['message', 'delta', 'error']);
    expect(JSON.parse(events[2]!.data)).toEqual({ code: 'UNAVAILABLE', message: expect.any(String) });
    expect((await listed(sessionId)).map((m) => [m.role, m.content])).toEqual([['user', 'Go']]);
  });

  test('When the client disconnects mid-stream, then the AI gateway sees its InferStream call cancelled and no reply is stored', async () => {
    const sessionId = await newSession();
    ai.state.streamBehaviour = streamScript({ deltas: ['first ', 'never'], hangAfter: 1 });
    const controller = new AbortController();

    const response = await postStream(sessionId, { content: 'Bye' }, controller.signal);
    let messageId = '';
    const read = (async () => {
      for await (const event of readEvents(response.body!)) {
        if (event.event === 'message') messageId = (JSON.parse(event.data) as Message).id;
        if (event.event === 'delta') controller.abort();
      }
    })();
    await expect(read).rejects.toThrow();

    await waitFor(() => ai.streamsFor(messageId)[0]?.ended === true, {
      timeoutMs: 10_000,
      description: 'the upstream InferStream call to end',
    });
    expect(ai.streamsFor(messageId)[0]!.cancelled).toBe(true);
    expect((await listed(sessionId)).map((m) => m.role)).toEqual(['user']);
  });

  test('When a sync reply takes longer than GRPC_DEADLINE_MS, then PostMessage still answers 201 within REPLY_DEADLINE_MS', async () => {
    const slow = await startGateway(userService!.address, {
      CONTEXT_SERVICE_ADDR: contextService!.address,
      GRPC_DEADLINE_MS: '1000',
      REPLY_DEADLINE_MS: '20000',
    });
    try {
      const sessionId = await newSession();
      ai.state.behaviour = async (request, ctx) => {
        await delay(1_500);
        return echo(request, ctx);
      };

      const response = await api<{ reply: Message }>(
        'POST',
        `/${sessionId}/messages`,
        { content: 'Slow' },
        slow.baseUrl,
      );

      expect(response.status).toBe(201);
      expect(response.body.data!.reply).toMatchObject({ status: 'completed', content: 'echo: Slow' });
    } finally {
      await slow.stop();
    }
  });
});
