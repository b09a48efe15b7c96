import { randomUUID } from 'node:crypto';
import { AppError } from '@te/platform';
import { waitFor, echo, streamScript, textOf, type FakeAiGateway } from '@te/testing';
import {
  callsAs,
  failure,
  startContextServiceWithAi,
  type ContextServiceWithAi,
  type RunningContextService,
} from './support/context.harness.js';

// PostMessageStream with context-service in-process and a fake AI gateway serving te.ai.v1 (InferStream
// included) over real gRPC on loopback; PostgreSQL, Redis and RabbitMQ are the machine's.
describe('PostMessageStream: replies streamed from InferStream', () => {
  let stack: ContextServiceWithAi;
  let ai: FakeAiGateway;
  let service: RunningContextService;
  let events: ContextServiceWithAi['events'];

  beforeAll(async () => {
    stack = await startContextServiceWithAi('streaming', { OCR_WORKER_ENABLED: 'false' });
    ({ ai, service, events } = stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  beforeEach(() => {
    ai.state.models = [{ name: 'explainer' }];
    ai.state.behaviour = echo;
    ai.state.streamBehaviour = streamScript();
  });

  const newSession = async () => {
    const calls = callsAs(service.client, randomUUID());
    const { session } = await calls.create({});
    return { calls, sessionId: session!.id };
  };
  const createdEvents = (messageId: string) =>
    events.received.filter((event) => event.data['message_id'] === messageId);

  it('When a message is streamed, then the stored user message comes first, the deltas in order, then the stored reply with the joined text, usage and its event', async () => {
    const { calls, sessionId } = await newSession();
    ai.state.streamBehaviour = streamScript({ deltas: ['A 404 ', 'means ', 'not found.'], delayMs: 20 });

    const { events: received, error } = await calls.postStream({ sessionId, content: 'What is a 404?' });

    expect(error).toBeUndefined();
    expect(received.map((event) => event.event)).toEqual(['userMessage', 'delta', 'delta', 'delta', 'reply']);
    const message = received[0]!.userMessage!;
    const reply = received.at(-1)!.reply!;
    expect(message).toMatchObject({
      role: 'user',
      status: 'stored',
      mode: 'stream',
      content: 'What is a 404?',
    });
    expect(received.slice(1, -1).map((event) => event.delta!.text)).toEqual([
      'A 404 ',
      'means ',
      'not found.',
    ]);
    expect(reply).toMatchObject({
      role: 'assistant',
      status: 'completed',
      mode: 'stream',
      content: 'A 404 means not found.',
      model: 'explainer@test-1',
      replyTo: message.id,
      inputTokens: 11,
      outputTokens: 7,
      costUsd: '0.00042',
    });
    const [sent] = ai.streamsFor(message.id);
    expect(sent!.request.model).toBe('explainer');
    expect(textOf(sent!.request.messages.at(-1))).toBe('What is a 404?');
    expect(ai.infersFor(message.id)).toEqual([]);
    const listed = (await calls.messages({ sessionId })).messages!;
    expect(listed.map((m) => [m.id, m.content])).toEqual([
      [message.id, 'What is a 404?'],
      [reply.id, 'A 404 means not found.'],
    ]);
    await waitFor(() => createdEvents(reply.id).length === 1 && createdEvents(message.id).length === 1, {
      timeoutMs: 10_000,
      description: 'context.message.created for both messages',
    });
    expect(createdEvents(reply.id)[0]!.data).toMatchObject({ role: 'assistant', mode: 'stream' });
  });

  it('When the AI gateway fails mid-stream, then the caller gets the deltas then the error, the user message stays and no reply is stored', async () => {
    const { calls, sessionId } = await newSession();
    ai.state.streamBehaviour = streamScript({
      deltas: ['Partial ', 'answer'],
      failAfter: 1,
      error: new AppError('RATE_LIMITED', 'Budget spent', { retryAfterSeconds: 12 }),
    });

    const { events: received, error } = await calls.postStream({ sessionId, content: 'Explain' });

    expect(received.map((event) => event.event)).toEqual(['userMessage', 'delta']);
    expect([error?.code, error?.retryAfterSeconds]).toEqual(['RATE_LIMITED', 12]);
    const listed = (await calls.messages({ sessionId })).messages!;
    expect(listed.map((m) => [m.role, m.content])).toEqual([['user', 'Explain']]);
  });

  it('When the caller cancels mid-stream, then the AI gateway sees its InferStream call cancelled and no reply is stored', async () => {
    const { calls, sessionId } = await newSession();
    ai.state.streamBehaviour = streamScript({ deltas: ['one ', 'two'], hangAfter: 1 });
    const controller = new AbortController();

    const { events: received, error } = await calls.postStream(
      { sessionId, content: 'Never mind' },
      { signal: controller.signal, onEvent: (event) => event.delta && controller.abort() },
    );

    expect(received.map((event) => event.event)).toEqual(['userMessage', 'delta']);
    expect(error).toBeInstanceOf(AppError);
    const messageId = received[0]!.userMessage!.id;
    await waitFor(() => ai.streamsFor(messageId)[0]?.ended === true, {
      timeoutMs: 10_000,
      description: 'the upstream stream to end',
    });
    expect(ai.streamsFor(messageId)[0]!.cancelled).toBe(true);
    const listed = (await calls.messages({ sessionId })).messages!;
    expect(listed.map((m) => m.role)).toEqual(['user']);
  });

  it('When the caller’s deadline passes mid-stream, then DEADLINE_EXCEEDED and the upstream call ends with it', async () => {
    const { calls, sessionId } = await newSession();
    ai.state.streamBehaviour = streamScript({ deltas: ['slow'], hangAfter: 0 });

    const { events: received, error } = await calls.postStream(
      { sessionId, content: 'Slowly' },
      { deadlineMs: 1_500 },
    );

    expect(received.map((event) => event.event)).toEqual(['userMessage']);
    expect(error?.code).toBe('DEADLINE_EXCEEDED');
    const messageId = received[0]!.userMessage!.id;
    await waitFor(() => ai.streamsFor(messageId)[0]?.ended === true, {
      timeoutMs: 10_000,
      description: 'the upstream stream to end',
    });
    expect(ai.streamsFor(messageId)[0]!.cancelled).toBe(true);
  });

  it('When the routed model cannot stream, then Infer answers and its text arrives as one delta', async () => {
    ai.state.models = [{ name: 'explainer', streaming: false }];
    const { calls, sessionId } = await newSession();

    const { events: received, error } = await calls.postStream({ sessionId, content: 'Once' });

    expect(error).toBeUndefined();
    expect(received.map((event) => event.event)).toEqual(['userMessage', 'delta', 'reply']);
    expect(received[1]!.delta!.text).toBe('echo: Once');
    expect(received[2]!.reply!.content).toBe('echo: Once');
    expect(ai.streamsFor(received[0]!.userMessage!.id)).toEqual([]);
  });

  it('When the request is refused before anything is stored, then the stream ends with the error and no event', async () => {
    const { calls, sessionId } = await newSession();

    const wrongMode = await calls.postStream({ sessionId, content: 'hi', mode: 'async' });
    const unknownModel = await calls.postStream({ sessionId, content: 'hi', model: 'gpt-9' });
    const missing = await calls.postStream({ sessionId: randomUUID(), content: 'hi' });

    expect(wrongMode.events).toEqual([]);
    expect(wrongMode.error?.fields).toEqual([
      { field: 'mode', message: 'must be empty or stream in PostMessageStream' },
    ]);
    expect(unknownModel.error?.fields).toEqual([{ field: 'model', message: 'is not a model you may use' }]);
    expect(missing.error?.code).toBe('NOT_FOUND');
    expect((await calls.messages({ sessionId })).messages).toEqual([]);
  });

  it('When PostMessage (unary) is asked for mode stream, then VALIDATION_FAILED points to the streaming call and nothing is stored', async () => {
    const { calls, sessionId } = await newSession();

    const error = await failure(calls.post({ sessionId, content: 'hi', mode: 'stream' }));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      { field: 'mode', message: 'stream replies come through PostMessageStream' },
    ]);
    expect((await calls.messages({ sessionId })).messages).toEqual([]);
  });
});
