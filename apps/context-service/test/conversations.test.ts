import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { callUnary } from '@te/grpc';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { SessionStateCache } from '../src/db/session-state.cache.js';
import {
  callsAs,
  createContextEnv,
  failure,
  observeEvents,
  queryPool,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';

// context-service in-process over gRPC, against the machine's PostgreSQL, Redis and RabbitMQ.
describe('sessions and messages over gRPC', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;
  let db: pg.Pool;
  let events: Awaited<ReturnType<typeof observeEvents>>;

  beforeAll(async () => {
    env = await createContextEnv();
    service = await startContextService(env);
    db = queryPool(env);
    events = await observeEvents(env, 'test-observer.context', ['context.#']);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  const newUser = () => callsAs(service.client, randomUUID());
  const eventsOf = (type: string, subject: string) =>
    events.received.filter((event) => event.type === type && event.subject === subject);
  const cached = async (sessionId: string) => {
    const raw = await service.app.redis.hget(SessionStateCache.key(sessionId), 's');
    return raw ? (JSON.parse(raw) as { session: { title: string }; recentMessages: { id: string }[] }) : null;
  };

  it('When a user creates a session, then it is stored as theirs, readable, and context.session.created is published without the title', async () => {
    const userId = randomUUID();
    const alice = callsAs(service.client, userId);

    const { session } = await alice.create({
      title: '  Why is my build red?  ',
      settingsJson: '{"tone":"short"}',
    });

    expect(session).toMatchObject({ title: 'Why is my build red?', settingsJson: '{"tone":"short"}' });
    expect((await alice.get(session!.id)).session).toEqual(session);
    const { rows } = await db.query('SELECT user_id::text, title, settings FROM sessions WHERE id = $1', [
      session!.id,
    ]);
    expect(rows).toEqual([{ user_id: userId, title: 'Why is my build red?', settings: { tone: 'short' } }]);
    await waitFor(() => eventsOf('context.session.created', session!.id).length === 1, {
      timeoutMs: 10_000,
      description: 'context.session.created',
    });
    const [event] = eventsOf('context.session.created', session!.id);
    expect(event!.data).toEqual({ session_id: session!.id, user_id: userId, created_at: session!.createdAt });
    expect(JSON.stringify(event)).not.toContain('build red');
  });

  it('When no principal comes with the call, then UNAUTHENTICATED and nothing is stored', async () => {
    const error = await failure(callUnary(service.client, 'CreateSession', { title: 'anonymous' }));

    expect(error.code).toBe('UNAUTHENTICATED');
    const { rows } = await db.query("SELECT count(*)::int AS n FROM sessions WHERE title = 'anonymous'");
    expect(rows[0].n).toBe(0);
  });

  it('When the title and settings are invalid, then one VALIDATION_FAILED names both', async () => {
    const alice = newUser();

    const error = await failure(alice.create({ title: 'x'.repeat(201), settingsJson: '[1,2]' }));
    const tooBig = await failure(
      alice.create({ settingsJson: JSON.stringify({ blob: 'x'.repeat(17_000) }) }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((f) => f.field).sort()).toEqual(['settings', 'title']);
    expect(tooBig.fields).toEqual([{ field: 'settings', message: 'must be at most 16384 bytes as JSON' }]);
    expect((await alice.list()).sessions).toEqual([]);
  });

  it('When another user names a session, then every RPC answers NOT_FOUND, as for a missing one, and it is untouched', async () => {
    const alice = newUser();
    const bob = newUser();
    const { session } = await alice.create({ title: 'mine' });
    const id = session!.id;

    const answers = await Promise.all([
      failure(bob.get(id)),
      failure(bob.update({ id, title: 'stolen' })),
      failure(bob.remove(id)),
      failure(bob.post({ sessionId: id, content: 'hello' })),
      failure(bob.messages({ sessionId: id })),
      failure(bob.get(randomUUID())),
    ]);

    expect(answers.map((error) => error.code)).toEqual(Array(6).fill('NOT_FOUND'));
    expect(new Set(answers.map((error) => error.message)).size).toBe(1);
    expect((await bob.list()).sessions).toEqual([]);
    expect((await alice.get(id)).session?.title).toBe('mine');
    expect((await alice.messages({ sessionId: id })).messages).toEqual([]);
  });

  it('When a user has more sessions than a page holds, then the pages list them newest first, with no gap or repeat', async () => {
    const alice = newUser();
    const created: string[] = [];
    for (let i = 0; i < 7; i += 1) created.push((await alice.create({ title: `s${i}` })).session!.id);

    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await alice.list({ pageSize: 3, pageToken });
      seen.push(...page.sessions!.map((s) => s.id));
      pageToken = page.nextPageToken!;
      pages += 1;
    } while (pageToken);

    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
    const bad = await failure(alice.list({ pageSize: 101, pageToken: 'not-a-token!' }));
    expect(bad.fields?.map((f) => f.field).sort()).toEqual(['page_size', 'page_token']);
  });

  it('When a session is updated, then only the fields sent change and the cached state follows', async () => {
    const alice = newUser();
    const { session } = await alice.create({ title: 'before', settingsJson: '{"a":1}' });
    await alice.get(session!.id);

    const { session: renamed } = await alice.update({ id: session!.id, title: 'after' });
    const { session: reset } = await alice.update({ id: session!.id, settingsJson: '{"b":2}' });

    expect(renamed).toMatchObject({ title: 'after', settingsJson: '{"a":1}' });
    expect(reset).toMatchObject({ title: 'after', settingsJson: '{"b":2}' });
    expect((await cached(session!.id))?.session.title).toBe('after');
    const bad = await failure(alice.update({ id: 'nope', title: '\u0007bell' }));
    expect(bad.fields?.map((f) => f.field).sort()).toEqual(['id', 'title']);
  });

  it('When a user posts messages, then they are stored, listed oldest first in pages, cached, and context.message.created carries lengths, not content', async () => {
    const userId = randomUUID();
    const alice = callsAs(service.client, userId);
    const { session } = await alice.create({});
    const sessionId = session!.id;

    const posted = [];
    for (const content of ['first question', 'second', 'third, with ünïcode']) {
      posted.push((await alice.post({ sessionId, content, mode: 'async', model: 'gpt-4o-mini' })).message!);
    }

    expect(posted[0]).toMatchObject({
      sessionId,
      role: 'user',
      content: 'first question',
      mode: 'async',
      model: 'gpt-4o-mini',
      status: 'stored',
      attachmentIds: [],
    });
    const first = await alice.messages({ sessionId, pageSize: 2 });
    const second = await alice.messages({ sessionId, pageSize: 2, pageToken: first.nextPageToken! });
    const pages = [first, second];
    let token = second.nextPageToken!;
    while (token) {
      const next = await alice.messages({ sessionId, pageSize: 2, pageToken: token });
      pages.push(next);
      token = next.nextPageToken!;
    }
    const all = pages.flatMap((page) => page.messages!);
    expect(all.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      'first question',
      'second',
      'third, with ünïcode',
    ]);
    // Each async question is followed by its reply (pending or completed by now).
    expect(all.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    // Async: each question has its pending reply beside it in the state.
    const recent = (await cached(sessionId))?.recentMessages as { id: string; role: string }[];
    expect(recent.filter((m) => m.role === 'user').map((m) => m.id)).toEqual(posted.map((m) => m.id));
    const last = posted[2]!;
    const userEvents = () =>
      eventsOf('context.message.created', sessionId).filter((e) => e.data['role'] === 'user');
    await waitFor(() => userEvents().length === 3, {
      timeoutMs: 10_000,
      description: 'three context.message.created',
    });
    const event = userEvents().find((e) => e.data['message_id'] === last.id);
    expect(event!.data).toEqual({
      message_id: last.id,
      session_id: sessionId,
      user_id: userId,
      role: 'user',
      mode: 'async',
      model: 'gpt-4o-mini',
      content_length: 19,
      attachment_ids: [],
      created_at: last.createdAt,
    });
    expect(JSON.stringify(event)).not.toContain('ünïcode');
  });

  it('When a message is invalid, then one VALIDATION_FAILED names each bad field and nothing is stored', async () => {
    const alice = newUser();
    const { session } = await alice.create({});
    const sessionId = session!.id;

    const error = await failure(
      alice.post({ sessionId, content: '   ', mode: 'telepathy', model: 'bad model!', attachmentIds: ['x'] }),
    );
    const tooLong = await failure(alice.post({ sessionId, content: 'a'.repeat(32_001) }));
    const unknown = randomUUID();
    const notAttached = await failure(alice.post({ sessionId, content: 'see', attachmentIds: [unknown] }));

    expect(error.fields?.map((f) => f.field).sort()).toEqual([
      'attachment_ids[0]',
      'content',
      'mode',
      'model',
    ]);
    expect(tooLong.fields).toEqual([{ field: 'content', message: 'must be at most 32000 characters' }]);
    expect(notAttached.code).toBe('VALIDATION_FAILED');
    expect(notAttached.fields).toEqual([
      { field: 'attachment_ids[0]', message: 'is not an attachment of this session' },
    ]);
    expect((await alice.messages({ sessionId })).messages).toEqual([]);
  });

  it("When a message refers to an attachment of the session, then it is kept; another session's attachment is refused", async () => {
    const userId = randomUUID();
    const alice = callsAs(service.client, userId);
    const { session } = await alice.create({});
    const { session: other } = await alice.create({});
    const insert = async (sessionId: string) => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO attachments (id, session_id, user_id, object_key, content_type, size_bytes, sha256, width, height)
         VALUES ($1, $2, $3, 'k', 'image/png', 10, 'abc', 640, 480)`,
        [id, sessionId, userId],
      );
      return id;
    };
    const mine = await insert(session!.id);
    const elsewhere = await insert(other!.id);

    const { message } = await alice.post({ sessionId: session!.id, content: 'look', attachmentIds: [mine] });
    const refused = await failure(
      alice.post({ sessionId: session!.id, content: 'look', attachmentIds: [mine, elsewhere] }),
    );

    expect(message?.attachmentIds).toEqual([mine]);
    expect(refused.fields).toEqual([
      { field: 'attachment_ids[1]', message: 'is not an attachment of this session' },
    ]);
    const state = (await cached(session!.id)) as unknown as { attachments: { id: string; width: number }[] };
    expect(state.attachments).toEqual([expect.objectContaining({ id: mine, width: 640 })]);
  });

  it('When the cached state is removed, then the next read rebuilds it from PostgreSQL', async () => {
    const alice = newUser();
    const { session } = await alice.create({ title: 'cached' });
    await alice.post({ sessionId: session!.id, content: 'hello' });
    const key = SessionStateCache.key(session!.id);
    await service.app.redis.del(key);

    const { session: read } = await alice.get(session!.id);

    expect(read?.title).toBe('cached');
    expect((await cached(session!.id))?.recentMessages).toHaveLength(2); // the question and its reply
  });

  it('When a session is deleted, then its messages go with it, reads answer NOT_FOUND and context.session.deleted is published', async () => {
    const userId = randomUUID();
    const alice = callsAs(service.client, userId);
    const { session } = await alice.create({ title: 'to delete' });
    const id = session!.id;
    await alice.post({ sessionId: id, content: 'bye' });
    await alice.get(id);

    await alice.remove(id);

    expect((await failure(alice.get(id))).code).toBe('NOT_FOUND');
    expect((await failure(alice.remove(id))).code).toBe('NOT_FOUND');
    const { rows } = await db.query('SELECT count(*)::int AS n FROM messages WHERE session_id = $1', [id]);
    expect(rows[0].n).toBe(0);
    expect(await cached(id)).toBeNull();
    await waitFor(() => eventsOf('context.session.deleted', id).length === 1, {
      timeoutMs: 10_000,
      description: 'context.session.deleted',
    });
    expect(eventsOf('context.session.deleted', id)[0]!.data).toMatchObject({
      session_id: id,
      user_id: userId,
      reason: 'user_request',
    });
  });
});
