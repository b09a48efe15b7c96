import { AppError } from '@te/platform';
import { waitFor, echo, textOf, type FakeAiGateway } from '@te/testing';
import {
  call,
  startMessagingStack,
  type MessagingStack,
  type RunningGateway,
} from './support/gateway.harness.js';

interface Message {
  id: string;
  role: string;
  content: string;
  status: string;
  model: string | null;
  reply_to: string | null;
  error_code: string | null;
  usage: { input_tokens: number; output_tokens: number; cost_usd: string | null } | null;
}
interface Posted {
  message: Message;
  reply: Message;
  reply_id?: string;
}

// Gateway → real context-service process → a fake AI gateway (te.ai.v1 on loopback), over real HTTP.
let stack: MessagingStack;
let ai: FakeAiGateway;
let gateway: RunningGateway;
let token: string;

const api = <T>(method: string, path: string, json?: unknown) =>
  call<T>(gateway.baseUrl, method, `/api/v1/sessions${path}`, {
    headers: { authorization: `Bearer ${token}` },
    ...(json !== undefined && { json }),
  });

beforeAll(async () => {
  stack = await startMessagingStack();
  ({ ai, gateway, token } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

beforeEach(() => {
  ai.state.behaviour = echo;
});

const newSession = async () => (await api<{ session: { id: string } }>('POST', '', {})).body.data!.session.id;

describe('POST /api/v1/sessions/:id/messages with request routing', () => {
  test('When a message is posted in sync mode, then 201 with the user message and the assistant reply', async () => {
    const sessionId = await newSession();

    const response = await api<Posted>('POST', `/${sessionId}/messages`, {
      content: 'What is on my screen?',
    });

    expect(response.status).toBe(201);
    const { message, reply } = response.body.data!;
    expect(message).toMatchObject({ role: 'user', status: 'stored', content: 'What is on my screen?' });
    expect(reply).toMatchObject({
      role: 'assistant',
      status: 'completed',
      content: 'echo: What is on my screen?',
      model: 'explainer@test-1',
      reply_to: message.id,
      usage: { input_tokens: 11, output_tokens: 7, cost_usd: '0.00042' },
    });
    expect(textOf(ai.infersFor(message.id)[0]!.request.messages[0])).toContain('TE-explico');
  });

  test('When a message is posted in async mode, then 202 with the reply id, and the reply shows up in GET messages', async () => {
    const sessionId = await newSession();

    const response = await api<Posted>('POST', `/${sessionId}/messages`, {
      content: 'Take your time',
      mode: 'async',
    });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/api/v1/sessions/${sessionId}/messages`);
    const { message, reply, reply_id } = response.body.data!;
    expect(reply).toMatchObject({ status: 'pending', reply_to: message.id, usage: null });
    expect(reply_id).toBe(reply.id);
    const listed = await waitFor(
      async () => {
        const page = await api<{ messages: Message[] }>('GET', `/${sessionId}/messages`);
        const found = page.body.data!.messages.find((m) => m.id === reply_id);
        if (found?.status !== 'completed') throw new Error(`reply ${found?.status}`);
        return page.body.data!.messages;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the async reply' },
    );
    expect(listed.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Take your time'],
      ['assistant', 'echo: Take your time'],
    ]);
  });

  test('When the AI gateway is rate limited, then 429 with Retry-After, and the message stays', async () => {
    const sessionId = await newSession();
    ai.state.behaviour = async () => {
      throw new AppError('RATE_LIMITED', 'Budget spent', { retryAfterSeconds: 42 });
    };

    const limited = await api('POST', `/${sessionId}/messages`, { content: 'now?' });

    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('42');
    const page = await api<{ messages: Message[] }>('GET', `/${sessionId}/messages`);
    expect(page.body.data!.messages.map((m) => m.content)).toEqual(['now?']);
  });
});
