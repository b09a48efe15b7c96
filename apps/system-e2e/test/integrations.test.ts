import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '@te/testing';
import { callApi, dataOf, newAccount } from '../src/gateway-client.js';
import { platformEventsOf } from '../src/slice-probes.js';
import { SystemStack } from '../src/system-stack.js';

// What a customer's own systems see, across the five real processes (see ../README.md): a webhook
// endpoint signed per Standard Webhooks receiving the events of a conversation, the same events on
// the SSE stream, and the official OpenAI SDK talking to the OpenAI-compatible front door with an
// API key — its inference also reaching the webhook.
const stack = new SystemStack();

beforeAll(() => stack.start(), 240_000);

afterAll(async () => {
  await receiver?.close();
  await stack.teardown();
  expect(await stack.leftovers()).toEqual([]);
}, 120_000);

/** How every answer of the offline explainer begins (ai-gateway-service src/providers/extractive-answer.ts). */
const LOCAL_PREFACE = "I am TE-explico's built-in offline model.";

interface Delivery {
  headers: Record<string, string>;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** A customer's webhook receiver on loopback: every POST is kept, and answered 204. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      deliveries.push({ headers, body, payload: JSON.parse(body) as Delivery['payload'] });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    deliveries,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/te-explico`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

async function signUp(label: string): Promise<{ id: string; token: string }> {
  const response = await callApi<{ user: { id: string }; access_token: string }>(
    stack.gatewayUrl('/api/v1/auth/register'),
    { body: newAccount(label) },
  );
  expect(response.status).toBe(201);
  const { user, access_token: token } = dataOf(response);
  await platformEventsOf(stack, user.id);
  return { id: user.id, token };
}

/** Reads the caller's SSE event stream until `enough` holds for the events seen, then disconnects. */
async function readEventStream(
  token: string,
  enough: (events: { id: string; event: string; data: Record<string, unknown> }[]) => boolean,
) {
  const controller = new AbortController();
  const response = await fetch(stack.gatewayUrl('/api/v1/events'), {
    headers: { authorization: `Bearer ${token}`, 'last-event-id': '0-0' },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: { id: string; event: string; data: Record<string, unknown> }[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  const timeout = setTimeout(() => controller.abort(), 30_000);
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((line) => !line.startsWith(':') && line.includes(':'))
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
        );
        if (fields['data'] && fields['id'])
          events.push({
            id: fields['id'],
            event: fields['event'] ?? 'message',
            data: JSON.parse(fields['data']),
          });
      }
      if (enough(events)) break;
    }
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  return events;
}

describe('Integrations across the five processes', () => {
  it('When a user has a webhook endpoint and asks a question, then the conversation’s events arrive signed (standardwebhooks verifies them) and on the SSE stream; an OpenAI SDK call with an API key answers and reaches the webhook too', async () => {
    receiver = await startReceiver();
    const user = await signUp('integrations');

    const created = await callApi<{ webhook: { id: string }; secret: string }>(
      stack.gatewayUrl('/api/v1/webhooks'),
      {
        token: user.token,
        body: { url: receiver.url, event_types: ['context.message.created', 'ai.inference.completed'] },
      },
    );
    expect(created.status).toBe(201);
    const { secret } = dataOf(created);
    expect(secret).toMatch(/^whsec_/);

    // A conversation: one question, answered synchronously by the offline explainer.
    const session = await callApi<{ session: { id: string } }>(stack.gatewayUrl('/api/v1/sessions'), {
      token: user.token,
      body: { title: 'What is this dialog?' },
    });
    const sessionId = dataOf(session).session.id;
    const posted = await callApi(stack.gatewayUrl(`/api/v1/sessions/${sessionId}/messages`), {
      token: user.token,
      body: { content: 'What does "Save changes?" mean here?', mode: 'sync' },
    });
    expect(posted.status).toBe(201);

    // The question and the reply (context.message.created ×2) and the inference (ai.inference.completed).
    const typesOf = () => receiver!.deliveries.map((delivery) => delivery.payload.type).sort();
    await waitFor(() => typesOf().length >= 3, {
      timeoutMs: 30_000,
      description: 'three webhook deliveries',
    });
    expect(typesOf()).toEqual([
      'ai.inference.completed',
      'context.message.created',
      'context.message.created',
    ]);
    const verifier = new Webhook(secret);
    for (const delivery of receiver.deliveries) {
      expect(() => verifier.verify(delivery.body, delivery.headers)).not.toThrow();
      expect(delivery.payload.data['user_id']).toBe(user.id);
      expect(delivery.body).not.toContain('Save changes'); // events carry no user-written text
    }
    expect(new Set(receiver.deliveries.map((delivery) => delivery.headers['webhook-id'])).size).toBe(3);

    // The same events on the caller's own event stream, from the start of the log.
    const streamed = await readEventStream(user.token, (events) =>
      ['context.message.created', 'ai.inference.completed'].every((type) =>
        events.some((event) => event.event === type),
      ),
    );
    const messageEvents = streamed.filter((event) => event.event === 'context.message.created');
    expect(messageEvents.length).toBeGreaterThanOrEqual(1);
    expect(streamed.every((event) => (event.data['data'] as { user_id?: string }).user_id === user.id)).toBe(
      true,
    );

    // The official OpenAI SDK, unchanged, with a TE-explico API key.
    const key = await callApi<{ secret: string }>(stack.gatewayUrl('/api/v1/api-keys'), {
      token: user.token,
      body: { name: 'openai sdk', scopes: ['explain'] },
    });
    expect(key.status).toBe(201);
    const openai = new OpenAI({
      baseURL: stack.gatewayUrl('/v1'),
      apiKey: dataOf(key).secret,
      maxRetries: 0,
    });
    const models = await openai.models.list();
    expect(models.data.map((model) => model.id)).toContain('explainer');
    const completion = await openai.chat.completions.create({
      model: 'explainer',
      messages: [
        { role: 'system', content: 'Screen: "Save changes?" [Save] [Discard]' },
        { role: 'user', content: 'What does the Save button do?' },
      ],
    });
    const answer = completion.choices[0]?.message.content ?? '';
    expect(answer.startsWith(LOCAL_PREFACE)).toBe(true);
    expect(completion.model).toBe('local-explainer@1');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);

    const stream = await openai.chat.completions.create({
      model: 'explainer',
      stream: true,
      messages: [
        { role: 'system', content: 'Screen: "Save changes?" [Save] [Discard]' },
        { role: 'user', content: 'What does the Save button do?' },
      ],
    });
    let streamedText = '';
    for await (const chunk of stream) streamedText += chunk.choices[0]?.delta.content ?? '';
    expect(streamedText).toBe(answer);

    // Both SDK inferences are usage like any other: the webhook gets their ai.inference.completed.
    await waitFor(() => typesOf().filter((type) => type === 'ai.inference.completed').length >= 3, {
      timeoutMs: 30_000,
      description: 'the SDK inferences on the webhook',
    });
  }, 120_000);
});
