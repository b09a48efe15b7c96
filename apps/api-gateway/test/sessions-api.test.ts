import { randomUUID } from 'node:crypto';
import {
  call,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { ContextServiceProcess } from './support/context-service.process.js';
import { UserServiceProcess } from './support/user-service.process.js';
import { startFakeAiGateway, type FakeAiGateway } from '@te/testing';

// Conversations through real HTTP: the gateway in-process, user-service and context-service as their
// own processes (the built binaries), on this machine's PostgreSQL, Redis and RabbitMQ.
interface ConversationSession {
  id: string;
  title: string | null;
  settings: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
}
interface ConversationMessage {
  id: string;
  session_id: string;
  role: string;
  content: string;
  model: string | null;
  mode: string;
  attachment_ids: string[];
  status: string;
  created_at: string;
}

let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let ai: FakeAiGateway | undefined;
let gateway: RunningGateway;
let alice: Session;
let bob: Session;

const as = (who: Session) => ({ authorization: `Bearer ${who.access_token}` });
const api = <T>(who: Session, method: string, path: string, json?: unknown) =>
  call<T>(gateway.baseUrl, method, `/api/v1/sessions${path}`, {
    headers: as(who),
    ...(json !== undefined && { json }),
  });
const createSession = async (who: Session, body: Record<string, unknown> = {}) => {
  const response = await api<{ session: ConversationSession }>(who, 'POST', '', body);
  expect(response.status).toBe(201);
  return response.body.data!.session;
};

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  ai = await startFakeAiGateway({ models: [{ name: 'explainer' }, { name: 'gpt-4o-mini' }] });
  contextService = await ContextServiceProcess.create({ AI_GATEWAY_SERVICE_ADDR: ai.address });
  await Promise.all([userService.start(), contextService.start()]);
  gateway = await startGateway(userService.address, { CONTEXT_SERVICE_ADDR: contextService.address });
  alice = (await register(gateway.baseUrl)).body.data!;
  bob = (await register(gateway.baseUrl)).body.data!;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
  await contextService?.dispose();
  await ai?.stop();
}, 60_000);

describe('/api/v1/sessions through the gateway', () => {
  test('When a session is created, then 201 with the session in the envelope, and GET answers the same', async () => {
    const response = await api<{ session: ConversationSession }>(alice, 'POST', '', {
      title: 'My screen',
      settings: { language: 'pt' },
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      success: true,
      error: null,
      metadata: { request_id: response.headers.get('x-request-id') },
    });
    const session = response.body.data!.session;
    expect(session).toMatchObject({ title: 'My screen', settings: { language: 'pt' } });
    const read = await api<{ session: ConversationSession }>(alice, 'GET', `/${session.id}`);
    expect([read.status, read.body.data?.session]).toEqual([200, session]);
  });

  test('When a user has more sessions than a page, then the pages list them newest first with no gap or repeat', async () => {
    const carol = (await register(gateway.baseUrl)).body.data!;
    const created: string[] = [];
    for (let i = 0; i < 5; i += 1) created.push((await createSession(carol, { title: `n${i}` })).id);

    type Page = { sessions: ConversationSession[]; next_page_token: string | null };
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const suffix = token ? `&page_token=${encodeURIComponent(token)}` : '';
      const page: Awaited<ReturnType<typeof api<Page>>> = await api<Page>(
        carol,
        'GET',
        `?page_size=2${suffix}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.data!.sessions.map((s) => s.id));
      token = page.body.data!.next_page_token;
    } while (token);

    expect(seen).toEqual([...created].reverse());
  });

  test("When a second user uses the first user's session id, then every route answers 404 and their list never shows it", async () => {
    const session = await createSession(alice, { title: 'alice only' });
    await api(alice, 'POST', `/${session.id}/messages`, { content: 'secret question' });

    const answers = await Promise.all([
      api(bob, 'GET', `/${session.id}`),
      api(bob, 'PATCH', `/${session.id}`, { title: 'mine now' }),
      api(bob, 'DELETE', `/${session.id}`),
      api(bob, 'POST', `/${session.id}/messages`, { content: 'hi' }),
      api(bob, 'GET', `/${session.id}/messages`),
    ]);
    const bobsList = await api<{ sessions: ConversationSession[] }>(bob, 'GET', '?page_size=100');

    expect(answers.map((r) => [r.status, r.body.error?.code])).toEqual(Array(5).fill([404, 'NOT_FOUND']));
    for (const answer of answers) expect(JSON.stringify(answer.body)).not.toContain('secret question');
    expect(bobsList.body.data!.sessions.map((s) => s.id)).not.toContain(session.id);
    const still = await api<{ messages: ConversationMessage[] }>(alice, 'GET', `/${session.id}/messages`);
    expect(still.body.data!.messages.map((m) => m.content)).toEqual([
      'secret question',
      'echo: secret question',
    ]);
  });

  test('When messages are posted, then 201 each with the reply, and they are listed oldest first', async () => {
    const session = await createSession(alice);

    const first = await api<{ message: ConversationMessage }>(alice, 'POST', `/${session.id}/messages`, {
      content: 'What does this error mean?',
      mode: 'sync',
      model: 'gpt-4o-mini',
    });
    await api(alice, 'POST', `/${session.id}/messages`, { content: 'And this one?' });
    const listed = await api<{ messages: ConversationMessage[]; next_page_token: string | null }>(
      alice,
      'GET',
      `/${session.id}/messages`,
    );

    expect(first.status).toBe(201);
    expect(first.body.data!.message).toMatchObject({
      session_id: session.id,
      role: 'user',
      content: 'What does this error mean?',
      mode: 'sync',
      model: 'gpt-4o-mini',
      status: 'stored',
      attachment_ids: [],
    });
    expect(listed.body.data!.messages.map((m) => m.content)).toEqual([
      'What does this error mean?',
      'echo: What does this error mean?',
      'And this one?',
      'echo: And this one?',
    ]);
    expect(listed.body.data!.next_page_token).toBeNull();
  });

  test('When input is invalid, then 400 VALIDATION_FAILED names each field, from the gateway or the service', async () => {
    const session = await createSession(alice);

    const badBody = await api(alice, 'POST', '', { title: 42, settings: [1], user_id: randomUUID() });
    const badTitle = await api(alice, 'PATCH', `/${session.id}`, { title: 'x'.repeat(201) });
    const badMessage = await api(alice, 'POST', `/${session.id}/messages`, {
      content: '',
      mode: 'later',
      attachment_ids: ['nope'],
      role: 'assistant',
    });
    const notAttached = await api(alice, 'POST', `/${session.id}/messages`, {
      content: 'see this',
      attachment_ids: [randomUUID()],
    });
    const badQuery = await api(alice, 'GET', '?page_size=0&page_token=%21%21&sort=asc');
    const badId = await api(alice, 'GET', '/not-a-uuid');

    const fields = (response: { body: { error: { fields?: { field: string }[] } | null } }) =>
      response.body.error?.fields?.map((f) => f.field).sort();
    expect([badBody.status, fields(badBody)]).toEqual([400, ['settings', 'title', 'user_id']]);
    expect([badTitle.status, fields(badTitle)]).toEqual([400, ['title']]);
    expect([badMessage.status, fields(badMessage)]).toEqual([400, ['mode', 'role']]);
    expect([notAttached.status, fields(notAttached)]).toEqual([400, ['attachment_ids[0]']]);
    expect([badQuery.status, fields(badQuery)]).toEqual([400, ['page_size', 'sort']]);
    expect([badId.status, fields(badId)]).toEqual([400, ['id']]);
    const emptyContent = await api(alice, 'POST', `/${session.id}/messages`, {
      content: ' ',
      attachment_ids: ['nope'],
    });
    expect([emptyContent.status, fields(emptyContent)]).toEqual([400, ['attachment_ids[0]', 'content']]);
  });

  test('When a session is deleted, then 204 with no body, and then 404', async () => {
    const session = await createSession(alice);

    const deleted = await fetch(`${gateway.baseUrl}/api/v1/sessions/${session.id}`, {
      method: 'DELETE',
      headers: as(alice),
    });
    const after = await api(alice, 'GET', `/${session.id}`);
    const again = await api(alice, 'DELETE', `/${session.id}`);

    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect([after.status, after.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    expect(again.status).toBe(404);
  });

  test('When the gateway reports readiness, then context-service is among its checks (not deciding)', async () => {
    const ops = await fetch(`${gateway.opsUrl}/readyz`);
    const body = (await ops.json()) as { checks: Record<string, unknown> };

    expect(body.checks['context-service']).toMatchObject({ ok: true, critical: false });
  });
});
