import { env } from '@te/platform';
import { z } from 'zod';
import { routingRulesSchema } from './routing-rules.js';

export const DEFAULT_SYSTEM_PROMPT = [
  'You are TE-explico, an assistant that explains what is on the user’s screen.',
  'The user shares screenshots (as images, or as the text recognised on them) and asks about them.',
  'Explain clearly and briefly what the screen shows and answer the question; say so when the text',
  'recognised on a screenshot is unclear rather than guessing.',
].join(' ');

/** ROUTING_RULES: a JSON array of rules (see routing-rules.ts); each bad field is named. */
const routingRulesVariable = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of routing rules (invalid JSON)' });
      return z.NEVER;
    }
    const parsed = routingRulesSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  })
  .describe('routing rules as JSON, first match wins (default: the rules in routing-rules.ts)');

/** The variables of request routing and the AI gateway client. */
export const routingConfigSchema = z.object({
  AI_GATEWAY_SERVICE_ADDR: z
    .string()
    .min(1)
    .default('127.0.0.1:50053')
    .describe('ai-gateway-service gRPC host:port'),
  AI_GATEWAY_INFER_DEADLINE_MS: env.positiveInt(60_000).describe('deadline of one Infer call'),
  MODEL_CATALOGUE_TTL_MS: env.milliseconds(30_000).describe('how long ListModels answers are reused'),
  ROUTING_RULES: routingRulesVariable,
  ROUTING_CHAT_MODEL: z.string().min(1).default('explainer').describe('model of the default rules for text'),
  ROUTING_VISION_MODEL: z
    .string()
    .min(1)
    .default('explainer-vision')
    .describe('model of the default rules for screenshots, when the catalogue says it has vision'),
  ROUTING_SYSTEM_PROMPT: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
  ROUTING_MAX_OCR_CHARS: env.positiveInt(4_000).describe('most OCR characters per screenshot in a prompt'),
  ROUTING_HISTORY_MESSAGES: env.positiveInt(50).describe('earlier messages read to fill the context window'),
  REPLY_WORKER_ENABLED: env
    .boolean(true)
    .describe('run the async reply consumer inside this process (false when src/worker.ts runs it)'),
  REPLY_GIVE_UP_MS: env
    .positiveInt(180_000)
    .describe('an async reply still failing transiently this long after it was asked for is marked failed'),
  REPLY_SWEEP_MARGIN_MS: env
    .milliseconds(60_000)
    .describe('an async reply still pending REPLY_GIVE_UP_MS + this long after it was asked for is failed'),
  REPLY_SWEEP_INTERVAL_MS: env
    .positiveInt(60_000)
    .describe('how often one replica looks for async replies left pending (their job dead-lettered)'),
});
