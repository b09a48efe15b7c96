import { access } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '@te/testing';
import { callApi, dataOf, newAccount, type ApiResponse, type Envelope } from '../src/gateway-client.js';
import { EVENT_TIMEOUT_MS, platformEventsOf } from '../src/slice-probes.js';
import { SystemStack } from '../src/system-stack.js';
import { renderScreenshot } from '../src/text-image.js';

// "Explain my screen" across the five real processes (see ../README.md): gateway → context-service
// (upload, OCR on its work queue, routing) → ai-gateway-service (the seeded offline `local` explainer
// behind the `explainer` alias) → ai.inference.completed → user-service's usage; and account deletion
// reaching context-service's rows and stored files. One stack for the file; each test arranges its
// own users, sessions and screenshots.
const stack = new SystemStack();

beforeAll(() => stack.start(), 240_000);

afterAll(async () => {
  await stack.teardown();
  expect(await stack.leftovers()).toEqual([]);
}, 120_000);

/** OCR of a first screenshot starts tesseract's worker: allow for it on a loaded 2-core machine. */
const OCR_TIMEOUT_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The version the seeded `explainer` alias points at (ai-gateway-service README, "Model registry"). */
const LOCAL_MODEL = 'local-explainer@1';
/** How every answer of the offline explainer begins (ai-gateway-service src/providers/extractive-answer.ts). */
const LOCAL_PREFACE =
  "I am TE-explico's built-in offline model. I do not understand the screen: I quote the lines of its text " +
  'that share the most words with your question, and you judge whether they answer it.';

/** What the screenshot shows; the middle line is what the questions are about. */
const SCREEN_LINES = ['Checkout failed', 'Error 504: payment gateway timeout', 'Try again in five minutes'];

interface User {
  id: string;
  token: string;
}

interface AttachmentView {
  id: string;
  session_id: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
  status: string;
  ocr_text: string | null;
  ocr_confidence: number | null;
  created_at: string;
  processed_at: string | null;
}

interface MessageView {
  id: string;
  session_id: string;
  role: string;
  content: string;
  model: string | null;
  mode: string;
  attachment_ids: string[];
  status: string;
  created_at: string;
  reply_to: string | null;
  error_code: string | null;
  usage: { input_tokens: number; output_tokens: number; cost_usd: string | null } | null;
}

interface PostedMessage {
  message: MessageView;
  reply: MessageView;
  reply_id?: string;
}

interface UsageView {
  daily: { day: string; model: string; requests: number; input_tokens: number; output_tokens: number }[];
  totals: { model: string; requests: number; input_tokens: number; output_tokens: number }[];
}

/** A new account whose user.registered has settled (nothing of it is still in flight afterwards). */
async function signUp(label: string): Promise<User> {
  const response = await callApi<{ user: { id: string }; access_token: string }>(
    stack.gatewayUrl('/api/v1/auth/register'),
    { body: newAccount(label) },
  );
  expect(response.status).toBe(201);
  const { user, access_token: token } = dataOf(response);
  await platformEventsOf(stack, user.id);
  return { id: user.id, token };
}

async function createSession(user: User, title: string): Promise<string> {
  const response = await callApi<{ session: { id: string } }>(stack.gatewayUrl('/api/v1/sessions'), {
    token: user.token,
    body: { title },
  });
  expect(response.status).toBe(201);
  return dataOf(response).session.id;
}

/** POST multipart/form-data with one part `file`, as a browser's FormData sends it. */
async function upload(
  user: User,
  sessionId: string,
  png: Buffer,
): Promise<ApiResponse<{ attachment: AttachmentView }>> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'screen.png');
  const response = await fetch(stack.gatewayUrl(`/api/v1/sessions/${sessionId}/attachments`), {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, accept: 'application/json' },
    body: form,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Envelope<{ attachment: AttachmentView }>,
  };
}

function getAttachment(user: User, sessionId: string, attachmentId: string) {
  return callApi<{ attachment: AttachmentView }>(
    stack.gatewayUrl(`/api/v1/sessions/${sessionId}/attachments/${attachmentId}`),
    { token: user.token },
  );
}

/** The attachment once OCR has run (context-service.ocr → tesseract → `processed`); `failed` fails at once. */
function processedAttachment(user: User, sessionId: string, attachmentId: string): Promise<AttachmentView> {
  return waitFor(
    async () => {
      const { attachment } = dataOf(await getAttachment(user, sessionId, attachmentId));
      if (attachment.status === 'failed') throw new Error(`OCR failed: ${JSON.stringify(attachment)}`);
      return attachment.status === 'processed' && attachment;
    },
    { timeoutMs: OCR_TIMEOUT_MS, intervalMs: 250, description: `OCR of attachment ${attachmentId}` },
  );
}

/** A session of `user` with the rendered screenshot uploaded and recognised. */
async function sessionWithScreenshot(user: User): Promise<{ sessionId: string; attachment: AttachmentView }> {
  const sessionId = await createSession(user, 'Why did my checkout fail?');
  const uploaded = await upload(user, sessionId, await renderScreenshot(SCREEN_LINES));
  expect(uploaded.status).toBe(201);
  const { attachment } = dataOf(uploaded);
  return { sessionId, attachment: await processedAttachment(user, sessionId, attachment.id) };
}

function postMessage(user: User, sessionId: string, body: Record<string, unknown>) {
  return callApi<PostedMessage>(stack.gatewayUrl(`/api/v1/sessions/${sessionId}/messages`), {
    token: user.token,
    body,
  });
}

async function listMessages(user: User, sessionId: string): Promise<MessageView[]> {
  const response = await callApi<{ messages: MessageView[] }>(
    stack.gatewayUrl(`/api/v1/sessions/${sessionId}/messages`),
    { token: user.token },
  );
  expect(response.status).toBe(200);
  return dataOf(response).messages;
}

/** The caller's usage for today once user-service has counted `requests` inferences. */
function usageOfToday(user: User, requests: number): Promise<UsageView> {
  const today = new Date().toISOString().slice(0, 10);
  return waitFor(
    async () => {
      const response = await callApi<UsageView>(
        stack.gatewayUrl(`/api/v1/users/me/usage?from=${today}&to=${today}`),
        { token: user.token },
      );
      const usage = dataOf(response);
      return usage.daily.reduce((sum, row) => sum + row.requests, 0) >= requests && usage;
    },
    {
      timeoutMs: EVENT_TIMEOUT_MS,
      intervalMs: 200,
      description: `ai.inference.completed of user ${user.id} to reach user-service's usage`,
    },
  );
}

/** The line of the recognised text that contains `word` (OCR may differ from the rendered text). */
function ocrLineWith(attachment: AttachmentView, word: string): string {
  const line = (attachment.ocr_text ?? '').split('\n').find((text) => text.toLowerCase().includes(word));
  if (!line) throw new Error(`no OCR line with "${word}" in ${JSON.stringify(attachment.ocr_text)}`);
  return line.replace(/\s+/g, ' ').trim();
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('Explaining a screen across the gateway, context-service, ai-gateway-service and user-service', () => {
  it('When a user uploads a screenshot, then 201 pending, it is stored under the user in object storage, and OCR through context-service.ocr makes it processed with the words on the screen', async () => {
    const user = await signUp('screen-ocr');
    const sessionId = await createSession(user, 'What is on my screen?');
    const png = await renderScreenshot(SCREEN_LINES);

    const uploaded = await upload(user, sessionId, png);

    expect(uploaded.status).toBe(201);
    const pending = dataOf(uploaded).attachment;
    expect(pending).toMatchObject({
      id: expect.stringMatching(UUID),
      session_id: sessionId,
      content_type: 'image/png',
      width: 1000,
      height: 300,
      status: 'pending',
      ocr_text: null,
      ocr_confidence: null,
      created_at: expect.stringMatching(ISO_TIME),
      processed_at: null,
    });
    const [row] = await stack.query<{ user_id: string; object_key: string }>(
      'context-service',
      'SELECT user_id::text, object_key FROM attachments WHERE id = $1::uuid',
      [pending.id],
    );
    expect(row).toEqual({ user_id: user.id, object_key: expect.stringMatching(`^users/${user.id}/`) });
    expect(await exists(path.join(stack.storageRoot(), ...row.object_key.split('/')))).toBe(true);

    const processed = await processedAttachment(user, sessionId, pending.id);

    expect(processed).toMatchObject({
      id: pending.id,
      status: 'processed',
      ocr_confidence: expect.any(Number),
      processed_at: expect.stringMatching(ISO_TIME),
    });
    expect(processed.ocr_confidence).toBeGreaterThan(50);
    const recognised = (processed.ocr_text ?? '').toLowerCase();
    for (const word of ['checkout', 'failed', 'payment', 'gateway', 'timeout', 'minutes']) {
      expect(recognised).toContain(word);
    }
  });

  it('When a user asks about the screenshot in sync mode, then 201 with the stored question and a completed reply of the offline local explainer through the real ai-gateway-service, both listed, and ai.inference.completed reaches user-service as one request today', async () => {
    const user = await signUp('screen-sync');
    const { sessionId, attachment } = await sessionWithScreenshot(user);
    const question = 'What does the payment gateway timeout mean?';

    const response = await postMessage(user, sessionId, {
      content: question,
      attachment_ids: [attachment.id],
      mode: 'sync',
    });

    expect(response.status).toBe(201);
    const { message, reply } = dataOf(response);
    expect(message).toMatchObject({
      id: expect.stringMatching(UUID),
      session_id: sessionId,
      role: 'user',
      content: question,
      mode: 'sync',
      attachment_ids: [attachment.id],
      created_at: expect.stringMatching(ISO_TIME),
      reply_to: null,
      error_code: null,
    });
    expect(reply).toMatchObject({
      id: expect.stringMatching(UUID),
      session_id: sessionId,
      role: 'assistant',
      model: LOCAL_MODEL,
      status: 'completed',
      reply_to: message.id,
      error_code: null,
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });
    expect(reply.content.startsWith(LOCAL_PREFACE)).toBe(true);
    expect(reply.usage?.input_tokens).toBeGreaterThan(0);
    expect(reply.usage?.output_tokens).toBeGreaterThan(0);

    // Stored: the conversation lists both, oldest first
    expect(await listMessages(user, sessionId)).toEqual([message, reply]);

    // ai-gateway-service → outbox → RabbitMQ → user-service.usage → usage_daily → the gateway
    const usage = await usageOfToday(user, 1);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.daily).toEqual([
      expect.objectContaining({
        day: today,
        model: LOCAL_MODEL,
        requests: 1,
        input_tokens: reply.usage?.input_tokens,
        output_tokens: reply.usage?.output_tokens,
      }),
    ]);
    expect(usage.totals).toEqual([expect.objectContaining({ model: LOCAL_MODEL, requests: 1 })]);
  });

  it('When a user asks about a screenshot, then the offline explainer quotes the line of the screen that answers the question', async () => {
    const user = await signUp('screen-quote');
    const { sessionId, attachment } = await sessionWithScreenshot(user);

    const response = await postMessage(user, sessionId, {
      content: 'What does the payment gateway timeout mean?',
      attachment_ids: [attachment.id],
    });

    expect(response.status).toBe(201);
    const { reply } = dataOf(response);
    expect(reply.content.startsWith(LOCAL_PREFACE)).toBe(true);
    expect(reply.content).toContain(`- "${ocrLineWith(attachment, 'timeout')}"`);
  });

  it('When a user asks in async mode, then 202 with the question and a pending reply (Location: the messages), and the reply worker on context-service.replies completes it with the quoted line', async () => {
    const user = await signUp('screen-async');
    const sessionId = await createSession(user, 'An invoice on my screen');
    const content = 'Screen text:\nInvoice 7731 is overdue\nPay before Friday\n\nWhy is the invoice overdue?';

    const response = await postMessage(user, sessionId, { content, mode: 'async' });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/api/v1/sessions/${sessionId}/messages`);
    const { message, reply, reply_id: replyId } = dataOf(response);
    expect(message).toMatchObject({ role: 'user', content, mode: 'async', reply_to: null });
    expect(reply).toMatchObject({
      id: replyId,
      role: 'assistant',
      status: 'pending',
      reply_to: message.id,
      usage: null,
    });

    const completed = await waitFor(
      async () => {
        const found = (await listMessages(user, sessionId)).find((listed) => listed.id === replyId);
        if (found?.status === 'failed') throw new Error(`the reply failed: ${JSON.stringify(found)}`);
        return found?.status === 'completed' && found;
      },
      { timeoutMs: EVENT_TIMEOUT_MS, intervalMs: 200, description: `async reply ${replyId} to complete` },
    );
    expect(completed).toMatchObject({
      role: 'assistant',
      model: LOCAL_MODEL,
      reply_to: message.id,
      error_code: null,
    });
    expect(completed.content).toBe(
      `${LOCAL_PREFACE}\n\nThe most relevant screen text:\n- "Invoice 7731 is overdue"`,
    );
    expect(completed.usage?.output_tokens).toBeGreaterThan(0);
    expect((await listMessages(user, sessionId)).map((listed) => listed.id)).toEqual([message.id, replyId]);
    expect((await usageOfToday(user, 1)).daily).toEqual([
      expect.objectContaining({ model: LOCAL_MODEL, requests: 1 }),
    ]);
  });

  it("When another user asks for someone's session or screenshot, then 404 NOT_FOUND as for a missing one, and nothing of it is shown or changed", async () => {
    const owner = await signUp('screen-owner');
    const sessionId = await createSession(owner, 'Private screen');
    const uploaded = await upload(owner, sessionId, await renderScreenshot(SCREEN_LINES));
    expect(uploaded.status).toBe(201);
    const attachmentId = dataOf(uploaded).attachment.id;
    const stranger = await signUp('screen-stranger');

    const answers = [
      await callApi(stack.gatewayUrl(`/api/v1/sessions/${sessionId}`), { token: stranger.token }),
      await callApi(stack.gatewayUrl(`/api/v1/sessions/${sessionId}/messages`), { token: stranger.token }),
      await getAttachment(stranger, sessionId, attachmentId),
      await postMessage(stranger, sessionId, { content: 'What is this?', attachment_ids: [attachmentId] }),
      await upload(stranger, sessionId, await renderScreenshot(['Not yours'])),
    ];

    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ success: false, data: null, error: { code: 'NOT_FOUND' } });
    }
    const listing = await callApi<{ sessions: unknown[] }>(stack.gatewayUrl('/api/v1/sessions'), {
      token: stranger.token,
    });
    expect(dataOf(listing).sessions).toEqual([]);
    expect(await listMessages(owner, sessionId)).toEqual([]);
    expect(
      await stack.query('context-service', 'SELECT id FROM attachments WHERE session_id = $1::uuid', [
        sessionId,
      ]),
    ).toHaveLength(1);
    expect((await getAttachment(owner, sessionId, attachmentId)).status).toBe(200);
  });

  it("When a user deletes their account, then user.deleted makes context-service erase the user's sessions, messages and attachments and the stored screenshot file", async () => {
    const user = await signUp('screen-delete');
    const { sessionId, attachment } = await sessionWithScreenshot(user);
    expect(
      (await postMessage(user, sessionId, { content: 'What failed?', attachment_ids: [attachment.id] }))
        .status,
    ).toBe(201);
    const [{ object_key: objectKey }] = await stack.query<{ object_key: string }>(
      'context-service',
      'SELECT object_key FROM attachments WHERE id = $1::uuid',
      [attachment.id],
    );
    const file = path.join(stack.storageRoot(), ...objectKey.split('/'));
    const userDirectory = path.join(stack.storageRoot(), 'users', user.id);
    expect(await exists(file)).toBe(true);

    const deletion = await fetch(stack.gatewayUrl('/api/v1/users/me'), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(deletion.status).toBe(204);

    // user-service → outbox → RabbitMQ → context-service.user-deleted → one transaction + object erasure
    await waitFor(
      async () =>
        (await stack.query('context-service', 'SELECT id FROM sessions WHERE user_id = $1::uuid', [user.id]))
          .length === 0,
      {
        timeoutMs: EVENT_TIMEOUT_MS,
        intervalMs: 200,
        description: `context-service to erase user ${user.id}`,
      },
    );
    for (const table of ['messages', 'attachments']) {
      expect(
        await stack.query('context-service', `SELECT id FROM ${table} WHERE user_id = $1::uuid`, [user.id]),
      ).toEqual([]);
    }
    // The rows and the objects go in the same handler (the erasure runs inside the transaction)
    expect(await exists(file)).toBe(false);
    expect(await exists(userDirectory)).toBe(false);
  });
});
