import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '@te/platform';
import { waitFor, echo, textOf, type FakeAiGateway } from '@te/testing';
import { replyRequestedEvent } from '../src/domain/conversation-events.js';
import type { Message } from '../src/domain/conversation.js';
import {
  callsAs,
  failure,
  queryPool,
  startContextServiceWithAi,
  type ContextServiceWithAi,
  type RunningContextService,
} from './support/context.harness.js';
import { renderTextImage } from './support/text-image.js';

// Request routing with context-service in-process and a fake AI gateway serving te.ai.v1 over real
// gRPC on loopback; PostgreSQL, Redis, RabbitMQ and tesseract.js are the machine's.
describe('request routing to the AI gateway', () => {
  let stack: ContextServiceWithAi;
  let ai: FakeAiGateway;
  let service: RunningContextService;
  let db: pg.Pool;
  let events: ContextServiceWithAi['events'];

  beforeAll(async () => {
    stack = await startContextServiceWithAi('routing', {
      ROUTING_SYSTEM_PROMPT: 'You are TE-explico (test prompt).',
    });
    ({ ai, service, events } = stack);
    db = queryPool(stack.env);
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  }, 60_000);

  beforeEach(() => {
    ai.state.models = [{ name: 'explainer' }];
    ai.state.behaviour = echo;
  });

  const newUser = () => {
    const userId = randomUUID();
    return { userId, calls: callsAs(service.client, userId) };
  };
  const createdEvents = (messageId: string) =>
    events.received.filter((event) => event.data['message_id'] === messageId);

  async function processedScreenshot(calls: ReturnType<typeof callsAs>, sessionId: string) {
    const png = await renderTextImage({ lines: ['Disk quota exceeded', 'Error 507'] });
    const { attachment } = await calls.upload({ sessionId, filename: 's.png', data: png });
    await waitFor(
      async () => {
        const { attachment: current } = await calls.attachment(sessionId, attachment!.id);
        if (current?.status !== 'processed') throw new Error(`status ${current?.status}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'OCR to finish' },
    );
    return attachment!.id;
  }

  it('When a text-only message is posted in sync mode, then the AI gateway gets the system prompt and the question, and the reply is stored, returned and announced', async () => {
    const { userId, calls } = newUser();
    const { session } = await calls.create({});

    const { message, reply } = await calls.post({ sessionId: session!.id, content: 'What is a 404?' });

    const [sent] = ai.infersFor(message!.id);
    expect(sent!.request.model).toBe('explainer');
    expect(sent!.principal?.userId).toBe(userId);
    expect(sent!.request.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(textOf(sent!.request.messages[0])).toBe('You are TE-explico (test prompt).');
    expect(textOf(sent!.request.messages[1])).toBe('What is a 404?');
    expect(sent!.request.metadata).toEqual({ session_id: session!.id, message_id: message!.id });
    expect(reply).toMatchObject({
      role: 'assistant',
      status: 'completed',
      content: 'echo: What is a 404?',
      model: 'explainer@test-1',
      replyTo: message!.id,
      inputTokens: 11,
      outputTokens: 7,
      costUsd: '0.00042',
    });
    const listed = (await calls.messages({ sessionId: session!.id })).messages!;
    expect(listed.map((m) => [m.role, m.id])).toEqual([
      ['user', message!.id],
      ['assistant', reply!.id],
    ]);
    await waitFor(() => createdEvents(reply!.id).length === 1, { timeoutMs: 10_000, description: 'event' });
    expect(createdEvents(reply!.id)[0]!.data).toMatchObject({ role: 'assistant', model: 'explainer@test-1' });
    const state = await service.app.redis.hget(`session-state:${session!.id}`, 's');
    expect(JSON.parse(state!).recentMessages.map((m: Message) => m.id)).toEqual([message!.id, reply!.id]);
  });

  it('When a processed screenshot is attached and the catalogue has a vision model, then the image goes as an image part', async () => {
    ai.state.models = [
      { name: 'explainer' },
      { name: 'explainer-vision', vision: true, contextWindow: 20_000 },
    ];
    const { calls } = newUser();
    const { session } = await calls.create({});
    const attachmentId = await processedScreenshot(calls, session!.id);

    const { message } = await calls.post({
      sessionId: session!.id,
      content: 'Why?',
      attachmentIds: [attachmentId],
    });

    const [sent] = ai.infersFor(message!.id);
    expect(sent!.request.model).toBe('explainer-vision');
    const parts = sent!.request.messages.at(-1)!.content;
    expect(parts[0]).toMatchObject({ text: 'Why?' });
    expect(parts[1]!.image?.mediaType).toBe('image/png');
    expect(parts[1]!.image!.data.subarray(1, 4).toString()).toBe('PNG');
  }, 90_000);

  it('When a processed screenshot is attached and no vision model is listed, then its OCR text is in the prompt', async () => {
    const { calls } = newUser();
    const { session } = await calls.create({});
    const attachmentId = await processedScreenshot(calls, session!.id);

    const { message } = await calls.post({
      sessionId: session!.id,
      content: 'Why?',
      attachmentIds: [attachmentId],
    });

    const [sent] = ai.infersFor(message!.id);
    expect(sent!.request.model).toBe('explainer');
    const prompt = textOf(sent!.request.messages.at(-1));
    expect(prompt).toMatch(/^\[Screenshot 1, text recognised on it\]\n[\s\S]*\n\nWhy\?$/);
    expect(prompt.toLowerCase()).toContain('quota');
    expect(sent!.request.messages.at(-1)!.content.some((part) => part.image)).toBe(false);
  }, 90_000);

  it('When the history is longer than the budget, then the newest turns are kept within it', async () => {
    ai.state.models = [{ name: 'explainer', contextWindow: 1_200, maxOutputTokens: 200 }];
    const { calls } = newUser();
    const { session } = await calls.create({});
    for (let i = 0; i < 12; i += 1)
      await calls.post({ sessionId: session!.id, content: `question ${i} ${'z'.repeat(300)}` });

    const { message } = await calls.post({ sessionId: session!.id, content: 'And now?' });

    const sent = ai.infersFor(message!.id)[0]!.request.messages;
    const chars = sent.reduce((sum, m) => sum + textOf(m).length, 0);
    expect(Math.ceil(chars / 4) + 4 * sent.length).toBeLessThanOrEqual(1_000);
    expect(textOf(sent.at(-1))).toBe('And now?');
    expect(textOf(sent.at(-2))).toMatch(/^echo: question 11 /);
    expect(textOf(sent.at(-3))).toMatch(/^question 11 /);
    expect(sent.length).toBeLessThan(1 + 24 + 1);
    expect(textOf(sent[0])).toMatch(/earlier turns of this conversation are not shown/);
  });

  it('When the user names a model the catalogue lacks, then VALIDATION_FAILED names model and nothing is stored', async () => {
    const { calls } = newUser();
    const { session } = await calls.create({});

    const error = await failure(calls.post({ sessionId: session!.id, content: 'hi', model: 'gpt-9' }));

    expect(error.fields).toEqual([{ field: 'model', message: 'is not a model you may use' }]);
    expect((await calls.messages({ sessionId: session!.id })).messages).toEqual([]);
  });

  it('When the AI gateway is unavailable or rate limited, then the error says so and the user message stays stored', async () => {
    const { calls } = newUser();
    const { session } = await calls.create({});
    ai.state.behaviour = async () => {
      throw new AppError('RATE_LIMITED', 'Budget spent', { retryAfterSeconds: 30 });
    };
    const limited = await failure(calls.post({ sessionId: session!.id, content: 'first' }));
    ai.state.behaviour = async () => {
      throw new AppError('UNAVAILABLE', 'All providers failed');
    };
    const down = await failure(calls.post({ sessionId: session!.id, content: 'second' }));

    expect([limited.code, limited.retryAfterSeconds]).toEqual(['RATE_LIMITED', 30]);
    expect(down.code).toBe('UNAVAILABLE');
    const listed = (await calls.messages({ sessionId: session!.id })).messages!;
    expect(listed.map((m) => [m.role, m.content])).toEqual([
      ['user', 'first'],
      ['user', 'second'],
    ]);
  });

  it('When a message is posted in async mode, then a pending reply is returned, completed by the worker, and a redelivered job adds nothing', async () => {
    const { calls } = newUser();
    const { session } = await calls.create({});

    const { message, reply } = await calls.post({
      sessionId: session!.id,
      content: 'later please',
      mode: 'async',
    });
    expect(reply).toMatchObject({ role: 'assistant', status: 'pending', replyTo: message!.id, content: '' });

    const completed = await waitFor(
      async () => {
        const listed = (await calls.messages({ sessionId: session!.id })).messages!;
        const found = listed.find((m) => m.id === reply!.id);
        if (found?.status !== 'completed') throw new Error(`reply ${found?.status}`);
        return listed;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the async reply' },
    );
    expect(completed.map((m) => [m.role, m.status, m.content])).toEqual([
      ['user', 'stored', 'later please'],
      ['assistant', 'completed', 'echo: later please'],
    ]);

    // The same job twice more (a redelivery and a duplicate publish): still one reply, one inference.
    const { rows } = await db.query('SELECT * FROM messages WHERE id = $1', [reply!.id]);
    const job = replyRequestedEvent(
      {
        id: reply!.id,
        sessionId: session!.id,
        userId: rows[0].user_id,
        replyTo: message!.id,
        createdAt: new Date(),
      } as Message,
      'test',
    );
    await service.app.bus.publish(job);
    await service.app.bus.publish(job);
    await waitFor(
      () =>
        service.logs
          .lines()
          .filter(
            (line) =>
              line['message'] === 'reply job skipped: reply settled or gone' &&
              line['reply_id'] === reply!.id,
          ).length === 2,
      { timeoutMs: 10_000, description: 'both duplicate jobs consumed' },
    );
    await waitFor(() => createdEvents(reply!.id).length === 1, { timeoutMs: 10_000, description: 'event' });
    const after = (await calls.messages({ sessionId: session!.id })).messages!;
    expect(after).toHaveLength(2);
    expect(ai.infersFor(message!.id)).toHaveLength(1);
    expect(createdEvents(reply!.id)).toHaveLength(1);
  });
});
