import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { ServiceTestEnv } from '@te/testing';
import {
  callsAs,
  createContextEnv,
  failure,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';

const MIB = 1024 * 1024;

/** A PNG of random pixels (incompressible): about 6 MiB, above grpc-js's default 4 MiB receive limit. */
async function sixMebibytePng(): Promise<Buffer> {
  const side = 1_450;
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

// UploadAttachment carries the whole file in one gRPC message: context-service's receive limit is
// ATTACHMENT_MAX_BYTES + 1 MiB, so the attachment limit is what decides.
describe('UploadAttachment above gRPC’s default message size', () => {
  let env: ServiceTestEnv;
  let root: string;
  let png: Buffer;
  const services: RunningContextService[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'te-upload-limit-'));
    env = await createContextEnv();
    png = await sixMebibytePng();
  }, 60_000);

  afterAll(async () => {
    for (const service of services) await service.stop();
    await env?.cleanup();
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  const start = async (overrides: Record<string, string>) => {
    const service = await startContextService(env, {
      STORAGE_FS_ROOT: root,
      OCR_WORKER_ENABLED: 'false',
      ...overrides,
    });
    services.push(service);
    return callsAs(service.client, randomUUID());
  };

  it('When a ~6 MiB PNG is uploaded with the default 10 MiB limit, then it is accepted and stored', async () => {
    expect(png.length).toBeGreaterThan(5.75 * MIB);
    expect(png.length).toBeLessThan(6.25 * MIB);
    const calls = await start({});
    const { session } = await calls.create({});

    const { attachment } = await calls.upload({ sessionId: session!.id, filename: 'big.png', data: png });

    expect(attachment).toMatchObject({
      status: 'pending',
      contentType: 'image/png',
      width: 1450,
      height: 1450,
    });
  }, 60_000);

  it('When the attachment limit is below the file, then PAYLOAD_TOO_LARGE comes from that limit, not from gRPC', async () => {
    const calls = await start({ ATTACHMENT_MAX_BYTES: String(5.5 * MIB) });
    const { session } = await calls.create({});

    const error = await failure(calls.upload({ sessionId: session!.id, filename: 'big.png', data: png }));

    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toBe(`The file is larger than ${5.5 * MIB} bytes`);
  }, 60_000);
});
