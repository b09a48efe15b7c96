import { loadProtos } from '@te/grpc';
import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { ContextServiceConfig } from './config.js';
import { AttachmentRepository } from './db/attachment.repository.js';
import { MessageRepository } from './db/message.repository.js';
import { createContextDb } from './db/prisma-client.js';
import { SessionRepository } from './db/session.repository.js';
import { SessionStateCache } from './db/session-state.cache.js';
import { createAiGatewayClient } from './clients/ai-gateway.client.js';
import type { Message } from './domain/conversation.js';
import { REPLY_WORK_QUEUE, replySubscription } from './events/reply.consumer.js';
import { CachedCatalogue } from './routing/model-catalogue.js';
import { generateReply, streamReply, type ReplyGeneratorDeps } from './routing/reply-generator.js';
import { defaultRoutingRules } from './routing/routing-rules.js';
import type { EraseUserObjects } from './domain/erase-user-data.use-case.js';
import { failStaleReplies } from './domain/fail-stale-replies.use-case.js';
import { purgeIdleSessions } from './domain/purge-idle-sessions.use-case.js';
import { releaseUnreferencedObjects } from './domain/release-objects.js';
import { OCR_WORK_QUEUE, ocrSubscription } from './events/ocr.consumer.js';
import { userDeletedSubscription } from './events/user-deleted.consumer.js';
import { contextHandlers } from './grpc/context.handlers.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import { TesseractOcrEngine } from './ocr/tesseract.ocr-engine.js';
import { userPrefix } from './storage/content-addressed.js';
import { createObjectStorage } from './storage/create-object-storage.js';
import type { ObjectStorage } from './storage/object-storage.js';
import { objectStorageSettings } from './storage/object-storage.config.js';

/** Name of the retention job (its scheduler lock is `scheduler:context-service:<name>`). */
export const SESSION_RETENTION_JOB = 'session-retention';
/** Name of the job that fails async replies left pending (their job dead-lettered). */
export const STALE_REPLIES_JOB = 'stale-replies';

const MIB = 1024 * 1024;

/**
 * `service`: the gRPC API, lifecycle jobs and (with OCR_WORKER_ENABLED / REPLY_WORKER_ENABLED) the OCR
 * and reply consumers; `worker`: the OCR and async reply consumers only (src/worker.ts).
 */
export type ContextServiceRole = 'service' | 'worker';

export interface ContextServiceAppOptions {
  logger?: Logger;
  role?: ContextServiceRole;
  /** Object storage; by default the driver the STORAGE_* variables describe. */
  storage?: ObjectStorage;
  /** OCR engine of the consumer; by default tesseract.js with OCR_POOL_SIZE workers. */
  ocrEngine?: OcrEngine;
  /** Object erasure on `user.deleted`; by default everything under the user's storage prefix. */
  eraseUserObjects?: EraseUserObjects;
}

/** Composition root: the service defaults plus what is context-service's own. Nothing runs until start(). */
export function createContextServiceApp(
  config: ContextServiceConfig,
  options: ContextServiceAppOptions = {},
): ServiceHost {
  const role = options.role ?? 'service';
  const database = createContextDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({
    config,
    database,
    logger: options.logger,
    // UploadAttachment carries the whole file in one message: room for the largest one plus the rest.
    grpcServerOptions: { 'grpc.max_receive_message_length': config.ATTACHMENT_MAX_BYTES + MIB },
  });
  const publishNow = () => host.relay.notify();

  // Conversations in PostgreSQL; each session's working state cached in Redis; uploads in object storage.
  const sessions = new SessionRepository(database.db, publishNow);
  const messages = new MessageRepository(database.db, publishNow);
  const attachments = new AttachmentRepository(database.db, publishNow);
  const states = new SessionStateCache(host.redis, sessions, host.logger, {
    recentMessages: config.SESSION_STATE_RECENT_MESSAGES,
    ttlSeconds: config.SESSION_STATE_TTL_SECONDS,
  });
  const storage = options.storage ?? createObjectStorage(objectStorageSettings(config));
  // Deleted sessions (DeleteSession, retention): their objects go unless another attachment still uses them.
  const releaseObjects = releaseUnreferencedObjects({ references: sessions, storage, logger: host.logger });

  // Request routing: rules × the AI gateway's catalogue → context window → Infer.
  const ai = createAiGatewayClient({
    address: config.AI_GATEWAY_SERVICE_ADDR,
    inferDeadlineMs: config.AI_GATEWAY_INFER_DEADLINE_MS,
    logger: host.logger,
    metrics: host.metrics,
  });
  const catalogue = new CachedCatalogue(() => ai.listModels(), config.MODEL_CATALOGUE_TTL_MS);
  const rules =
    config.ROUTING_RULES ??
    defaultRoutingRules({ chat: config.ROUTING_CHAT_MODEL, vision: config.ROUTING_VISION_MODEL });
  const routing: ReplyGeneratorDeps = {
    ai,
    catalogue,
    rules,
    messages,
    attachments,
    storage,
    logger: host.logger,
    settings: {
      systemPrompt: config.ROUTING_SYSTEM_PROMPT,
      maxOcrChars: config.ROUTING_MAX_OCR_CHARS,
      historyMessages: config.ROUTING_HISTORY_MESSAGES,
      maxImageBytes: config.STORAGE_MAX_OBJECT_BYTES,
    },
  };
  const generate = (question: Message) => generateReply(question, routing);

  if (role === 'service') {
    // te.context.v1.ContextService: the caller's sessions, messages and attachments.
    host.grpc.addService(
      loadProtos().te.context.v1.ContextService.service,
      contextHandlers({
        sessions,
        messages,
        states,
        attachments,
        storage,
        releaseObjects,
        attachmentLimits: {
          maxBytes: config.ATTACHMENT_MAX_BYTES,
          maxDimension: config.ATTACHMENT_MAX_DIMENSION,
          maxPixels: config.ATTACHMENT_MAX_PIXELS,
        },
        source: config.SERVICE_NAME,
        replies: {
          generate,
          stream: (question, signal) => streamReply(question, routing, signal),
          async mayUse(userId, model) {
            const models = await catalogue.get(userId).catch(() => undefined);
            return !models || models.has(model);
          },
        },
      }),
    );

    // Lifecycle: account deletion erases the user's conversations and objects; idle sessions expire.
    host.consume(
      userDeletedSubscription({
        db: database.db,
        states,
        logger: host.logger,
        eraseUserObjects:
          options.eraseUserObjects ??
          (async (userId) => {
            await storage.deletePrefix(userPrefix(userId));
          }),
      }),
    );
    host.scheduler.every(SESSION_RETENTION_JOB, config.SESSION_RETENTION_CHECK_SECONDS * 1000, async () => {
      await purgeIdleSessions({
        sessions,
        states,
        retentionDays: config.SESSION_RETENTION_DAYS,
        source: config.SERVICE_NAME,
        logger: host.logger,
        releaseObjects,
      });
    });
    host.scheduler.every(STALE_REPLIES_JOB, config.REPLY_SWEEP_INTERVAL_MS, async () => {
      await failStaleReplies({
        messages,
        states,
        giveUpMs: config.REPLY_GIVE_UP_MS,
        marginMs: config.REPLY_SWEEP_MARGIN_MS,
        logger: host.logger,
      });
    });
  }

  // The work queues exist whatever this process consumes, so jobs wait for a worker (in this process or
  // in the worker deployment) instead of being unroutable while none runs.
  host.declareQueue(OCR_WORK_QUEUE);
  host.declareQueue(REPLY_WORK_QUEUE);

  // Async reply work queue: in this process, or in the worker deployment (src/worker.ts).
  if (role === 'worker' || config.REPLY_WORKER_ENABLED) {
    host.consume(
      replySubscription({
        messages,
        states,
        generate,
        giveUpMs: config.REPLY_GIVE_UP_MS,
        source: config.SERVICE_NAME,
        logger: host.logger,
      }),
    );
  }
  host.onStop('ai-gateway-service client', () => ai.close());

  // OCR work queue: in this process, or in its own deployment (src/worker.ts).
  if (role === 'worker' || config.OCR_WORKER_ENABLED) {
    const engine =
      options.ocrEngine ??
      new TesseractOcrEngine({
        poolSize: config.OCR_POOL_SIZE,
        jobTimeoutMs: config.OCR_JOB_TIMEOUT_MS,
        logger: host.logger,
      });
    host.consume(
      ocrSubscription({
        attachments,
        storage,
        states,
        engine,
        maxImageBytes: config.STORAGE_MAX_OBJECT_BYTES,
        source: config.SERVICE_NAME,
        logger: host.logger,
      }),
    );
    // The bus is closed (running jobs finished) before the engine's workers go.
    host.onStop('ocr engine', () => engine.close());
  }
  return host;
}
