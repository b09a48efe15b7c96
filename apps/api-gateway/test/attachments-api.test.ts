import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { waitFor } from '@te/testing';
import {
  call,
  register,
  startGateway,
  type Envelope,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { ContextServiceProcess } from './support/context-service.process.js';
import { renderTextImage } from './support/text-image.js';
import { UserServiceProcess } from './support/user-service.process.js';

// Screenshots through real HTTP: the gateway in-process with a small upload limit, user-service and
// context-service (filesystem storage, OCR with tesseract.js) as their own processes.
interface Attachment {
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

const LIMIT = 100_000;

let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let gateway: RunningGateway;
let alice: Session;
let bob: Session;

const as = (who: Session) => ({ authorization: `Bearer ${who.access_token}` });

async function newSession(who: Session): Promise<string> {
  const response = await call<{ session: { id: string } }>(gateway.baseUrl, 'POST', '/api/v1/sessions', {
    headers: as(who),
    json: { title: 'screens' },
  });
  expect(response.status).toBe(201);
  return response.body.data!.session.id;
}

interface Part {
  name: string;
  value: Blob | string;
  filename?: string;
}

/** A multipart/form-data POST, built by fetch from FormData (as browsers send it). */
async function upload(sessionId: string, parts: Part[], headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string') form.append(part.name, part.value);
    else form.append(part.name, part.value, part.filename ?? 'file');
  }
  const response = await fetch(`${gateway.baseUrl}/api/v1/sessions/${sessionId}/attachments`, {
    method: 'POST',
    headers,
    body: form,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Envelope<{ attachment: Attachment }> };
}

const filePart = (data: Buffer, filename: string, type: string): Part => ({
  name: 'file',
  value: new Blob([new Uint8Array(data)], { type }),
  filename,
});

const getAttachment = (who: Session | undefined, sessionId: string, attachmentId: string) =>
  call<{ attachment: Attachment }>(
    gateway.baseUrl,
    'GET',
    `/api/v1/sessions/${sessionId}/attachments/${attachmentId}`,
    { headers: who ? as(who) : {} },
  );

let screenshot: Buffer;

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  contextService = await ContextServiceProcess.create();
  await Promise.all([userService.start(), contextService.start()]);
  gateway = await startGateway(userService.address, {
    CONTEXT_SERVICE_ADDR: contextService.address,
    ATTACHMENT_MAX_BYTES: String(LIMIT),
  });
  alice = (await register(gateway.baseUrl)).body.data!;
  bob = (await register(gateway.baseUrl)).body.data!;
  screenshot = await renderTextImage(['Invoice overdue', 'Payment failed']);
  expect(screenshot.length).toBeLessThan(LIMIT);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
  await contextService?.dispose();
}, 60_000);

describe('/api/v1/sessions/:id/attachments through the gateway', () => {
  test('When a screenshot with text is uploaded, then 201 pending, and GET later answers it processed with its text', async () => {
    const sessionId = await newSession(alice);

    const response = await upload(sessionId, [filePart(screenshot, 'screen.png', 'image/png')], as(alice));

    expect(response.status).toBe(201);
    const attachment = response.body.data!.attachment;
    expect(attachment).toMatchObject({
      session_id: sessionId,
      content_type: 'image/png',
      width: 1000,
      height: 300,
      status: 'pending',
      ocr_text: null,
      processed_at: null,
    });
    expect(attachment.size).toBeGreaterThan(0);
    const processed = await waitFor(
      async () => {
        const read = await getAttachment(alice, sessionId, attachment.id);
        if (read.body.data?.attachment.status !== 'processed') throw new Error(`status ${read.status}`);
        return read.body.data.attachment;
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'the attachment to be processed' },
    );
    expect(processed.ocr_text!.toLowerCase()).toEqual(expect.stringContaining('invoice'));
    expect(processed.ocr_text!.toLowerCase()).toEqual(expect.stringContaining('payment'));
    expect(processed.ocr_confidence).toBeGreaterThan(0);
    expect(Date.parse(processed.processed_at!)).not.toBeNaN();
  }, 120_000);

  test('When a text file is sent with a .png name and image/png type, then 415 (the bytes decide)', async () => {
    const sessionId = await newSession(alice);
    const text = Buffer.from('this is not an image at all\n'.repeat(20));

    const response = await upload(sessionId, [filePart(text, 'screen.png', 'image/png')], as(alice));

    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ success: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  test('When a file far over the configured limit is sent whole, then the client still reads the 413 in the envelope', async () => {
    const sessionId = await newSession(alice);
    const big = Buffer.alloc(3 * 1024 * 1024, 7); // past what the gateway reads and drops after answering

    const response = await upload(sessionId, [filePart(big, 'big.png', 'image/png')], as(alice));

    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  test('When a client keeps sending past the limit, then it gets the 413 while still sending, and the gateway closes the connection', async () => {
    const sessionId = await newSession(alice);

    const answer = await uploadThatNeverEnds(sessionId);

    expect(answer).toMatchObject({ status: 413, stillSending: true, closedByGateway: true });
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  test('When the body is JSON instead of multipart, then 415', async () => {
    const sessionId = await newSession(alice);

    const response = await call(gateway.baseUrl, 'POST', `/api/v1/sessions/${sessionId}/attachments`, {
      headers: as(alice),
      json: { file: screenshot.toString('base64') },
    });

    expect(response.status).toBe(415);
    expect(response.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test.each([
    ['no file part', [{ name: 'note', value: 'only a field' }]],
    [
      'two file parts',
      [
        { name: 'file', value: new Blob(['a']), filename: 'a.png' },
        { name: 'file', value: new Blob(['b']), filename: 'b.png' },
      ],
    ],
    ['an empty file', [{ name: 'file', value: new Blob([]), filename: 'empty.png' }]],
  ])('When the form has %s, then 400 naming file', async (_label, parts) => {
    const sessionId = await newSession(alice);

    const response = await upload(sessionId, parts as Part[], as(alice));

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [expect.objectContaining({ field: 'file' })],
    });
  });

  test('When the file comes in a part with another name, then 400 naming that part', async () => {
    const sessionId = await newSession(alice);

    const response = await upload(
      sessionId,
      [{ name: 'upload', value: new Blob([new Uint8Array(screenshot)]), filename: 's.png' }],
      as(alice),
    );

    expect(response.status).toBe(400);
    expect(response.body.error?.fields).toEqual([expect.objectContaining({ field: 'upload' })]);
  });

  test('When ids are not UUIDs, then 400 naming the parameter', async () => {
    const sessionId = await newSession(alice);

    const badSession = await upload('nope', [filePart(screenshot, 's.png', 'image/png')], as(alice));
    const badAttachment = await getAttachment(alice, sessionId, 'nope');

    expect([badSession.status, badSession.body.error?.fields]).toEqual([
      400,
      [expect.objectContaining({ field: 'id' })],
    ]);
    expect([badAttachment.status, badAttachment.body.error?.fields]).toEqual([
      400,
      [expect.objectContaining({ field: 'attachmentId' })],
    ]);
  });

  test("When a second user uses the first user's session or attachment, then 404 on both routes", async () => {
    const sessionId = await newSession(alice);
    const uploaded = await upload(sessionId, [filePart(screenshot, 'screen.png', 'image/png')], as(alice));
    expect(uploaded.status).toBe(201);
    const attachmentId = uploaded.body.data!.attachment.id;
    const bobsSession = await newSession(bob);

    const answers = await Promise.all([
      upload(sessionId, [filePart(screenshot, 'mine.png', 'image/png')], as(bob)),
      getAttachment(bob, sessionId, attachmentId),
      getAttachment(bob, bobsSession, attachmentId),
    ]);

    expect(answers.map((a) => [a.status, a.body.error?.code])).toEqual([
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
    ]);
    for (const answer of answers) expect(JSON.stringify(answer.body)).not.toContain(attachmentId);
    expect((await getAttachment(alice, sessionId, attachmentId)).status).toBe(200);
  });

  test('When no credential is presented, then 401 on both routes', async () => {
    const sessionId = await newSession(alice);

    const posted = await upload(sessionId, [filePart(screenshot, 'screen.png', 'image/png')]);
    const read = await getAttachment(undefined, sessionId, randomUUID());

    expect([posted.status, posted.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect([read.status, read.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('GET /api/v1/sessions/:id/attachments/:attachmentId/content through the gateway', () => {
  const download = (who: Session | undefined, sessionId: string, attachmentId: string) =>
    fetch(`${gateway.baseUrl}/api/v1/sessions/${sessionId}/attachments/${attachmentId}/content`, {
      headers: who ? as(who) : {},
      signal: AbortSignal.timeout(20_000),
    });

  async function uploaded(who: Session) {
    const sessionId = await newSession(who);
    const response = await upload(sessionId, [filePart(screenshot, 'screen.png', 'image/png')], as(who));
    expect(response.status).toBe(201);
    return { sessionId, attachment: response.body.data!.attachment };
  }

  test('When the owner downloads a screenshot, then 200 image/png with the stored object’s bytes (SHA-256 = its key) and private, no-sniff, inline headers', async () => {
    const { sessionId, attachment } = await uploaded(alice);

    const response = await download(alice, sessionId, attachment.id);

    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    const sha256 = createHash('sha256').update(body).digest('hex');
    const stored = await readFile(
      path.join(contextService!.storageRoot, 'users', alice.user.id, 'sha256', `${sha256}.png`),
    );
    expect(body.equals(stored)).toBe(true);
    expect(body.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // the PNG signature
    expect(body.length).toBe(attachment.size);
    expect({
      type: response.headers.get('content-type'),
      length: response.headers.get('content-length'),
      cache: response.headers.get('cache-control'),
      sniff: response.headers.get('x-content-type-options'),
      disposition: response.headers.get('content-disposition'),
    }).toEqual({
      type: 'image/png',
      length: String(body.length),
      cache: 'private, no-store',
      sniff: 'nosniff',
      disposition: `inline; filename="${attachment.id}.png"`,
    });
  });

  test("When a second user asks for the first user's screenshot, or anyone for an unknown one, then 404 in the envelope and no image byte", async () => {
    const { sessionId, attachment } = await uploaded(alice);
    const bobsSession = await newSession(bob);

    const answers = await Promise.all([
      download(bob, sessionId, attachment.id),
      download(bob, bobsSession, attachment.id),
      download(alice, sessionId, randomUUID()),
    ]);

    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await answer.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    }
  });

  test('When an id is not a UUID, then 400 naming the parameter; without a credential, 401', async () => {
    const { sessionId, attachment } = await uploaded(alice);

    const badSession = await download(alice, 'nope', attachment.id);
    const badAttachment = await download(alice, sessionId, 'nope');
    const anonymous = await download(undefined, sessionId, attachment.id);

    expect([badSession.status, ((await badSession.json()) as Envelope<unknown>).error?.fields]).toEqual([
      400,
      [expect.objectContaining({ field: 'id' })],
    ]);
    expect([badAttachment.status, ((await badAttachment.json()) as Envelope<unknown>).error?.fields]).toEqual(
      [400, [expect.objectContaining({ field: 'attachmentId' })]],
    );
    expect([anonymous.status, ((await anonymous.json()) as Envelope<unknown>).error?.code]).toEqual([
      401,
      'UNAUTHENTICATED',
    ]);
  });
});

/**
 * A raw chunked upload that writes far past the limit and does not stop at the answer: it ends on its
 * own only after 10 MB, which would mean the gateway read everything and never closed the connection.
 */
function uploadThatNeverEnds(sessionId: string): Promise<{
  status: number;
  body: string;
  stillSending: boolean;
  closedByGateway: boolean;
}> {
  const boundary = `----te${randomUUID().replace(/-/g, '')}`;
  const url = new URL(`${gateway.baseUrl}/api/v1/sessions/${sessionId}/attachments`);
  const ceiling = 10_000_000;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let status = 0;
    let body = '';
    let stillSending = false;
    const request = http.request(url, {
      method: 'POST',
      headers: { ...as(alice), 'content-type': `multipart/form-data; boundary=${boundary}` },
      timeout: 20_000,
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 20 s')));
    request.on('error', (error) => {
      if (!status) reject(error); // after the answer, a reset is the gateway closing: expected
    });
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      stillSending = !request.writableEnded;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('error', () => undefined);
    });
    request.on('close', () => {
      if (!status) return reject(new Error('closed without an answer'));
      resolve({ status, body, stillSending, closedByGateway: sent < ceiling });
    });
    request.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    );
    const chunk = Buffer.alloc(16 * 1024, 1);
    const pump = (): void => {
      if (request.destroyed) return;
      if (sent >= ceiling) {
        request.end(`\r\n--${boundary}--\r\n`);
        return;
      }
      sent += chunk.length;
      if (request.write(chunk)) setImmediate(pump);
      else request.once('drain', pump);
    };
    pump();
  });
}
