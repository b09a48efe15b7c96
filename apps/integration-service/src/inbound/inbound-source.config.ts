import { ConfigError, env, loadConfig } from '@te/platform';
import { z } from 'zod';

type ConfigProblem = ConfigError['problems'][number];

/** How a source signs its deliveries (each kind has its verifier in this folder). */
export const INBOUND_KINDS = ['github', 'stripe', 'standard-webhooks'] as const;
export type InboundKind = (typeof INBOUND_KINDS)[number];

export interface InboundSourceSettings {
  /** From INBOUND_SOURCES; the `:source` of the public URL. */
  id: string;
  kind: InboundKind;
  /** Every secret a signature may match (several while a secret is rotated). Never logged. */
  secrets: string[];
  /**
   * Stripe and Standard Webhooks: how far a delivery's timestamp may be from now, either way, and how
   * long its message id is remembered. GitHub signs no timestamp: only how long delivery ids are
   * remembered.
   */
  toleranceSeconds: number;
}

const SOURCE_ID = /^[a-z][a-z0-9-]{0,31}$/;
/** Stripe's library and the Standard Webhooks spec both use five minutes. */
const DEFAULT_TOLERANCE_SECONDS = { github: 86_400, stripe: 300, 'standard-webhooks': 300 } as const;
const MAX_TOLERANCE_SECONDS = 7 * 86_400;
// Standard Webhooks secrets are base64 (24–64 random bytes by the spec), optionally prefixed whsec_.
const STANDARD_WEBHOOKS_SECRET = /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/;

/**
 * The static part of the inbound configuration, to spread into the service's schema. The per-source
 * variables depend on INBOUND_SOURCES and are read by loadInboundSources.
 */
export const inboundSourcesConfigFragment = {
  INBOUND_SOURCES: env
    .list()
    .describe(
      'comma-separated source ids accepted at /api/v1/integrations/inbound/:source; each is configured by INBOUND_SOURCE_<ID>_*',
    ),
  // Below gRPC's default 4 MiB receive limit, with room for the headers.
  INBOUND_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(3 * 1024 * 1024)
    .default(1024 * 1024)
    .describe(
      'largest delivery body accepted (PAYLOAD_TOO_LARGE beyond; at most 3 MiB); it becomes the event payload',
    ),
};

export type InboundSourceVariable = 'KIND' | 'SECRET' | 'TOLERANCE_SECONDS';

/** INBOUND_SOURCE_<ID>_<NAME>: "github-main" → INBOUND_SOURCE_GITHUB_MAIN_SECRET. */
export function inboundSourceVariable(id: string, name: InboundSourceVariable): string {
  return `INBOUND_SOURCE_${id.toUpperCase().replace(/-/g, '_')}_${name}`;
}

/** The per-source variables for these ids (kinds default to the id when it names one). */
export function inboundSourceVariablesSchema(ids: readonly string[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const id of ids) {
    const defaultKind = (INBOUND_KINDS as readonly string[]).includes(id) ? id : undefined;
    const kind = z.enum(INBOUND_KINDS);
    shape[inboundSourceVariable(id, 'KIND')] = defaultKind ? kind.default(defaultKind as InboundKind) : kind;
    // Messages never quote the value: it is a secret.
    shape[inboundSourceVariable(id, 'SECRET')] = env.list().refine((secrets) => secrets.length > 0, {
      message: 'is required: one secret, or several separated by commas while rotating',
    });
    shape[inboundSourceVariable(id, 'TOLERANCE_SECONDS')] = z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_TOLERANCE_SECONDS)
      .optional();
  }
  return z.object(shape);
}

/**
 * Reads INBOUND_SOURCES and each source's INBOUND_SOURCE_<ID>_KIND (github | stripe |
 * standard-webhooks; defaults to the id when the id is a kind), _SECRET (required; comma-separated
 * for rotation) and _TOLERANCE_SECONDS (300 for Stripe and Standard Webhooks, 86400 for GitHub).
 * Throws ConfigError listing every problem at once, never a secret's value.
 */
export function loadInboundSources(environment: NodeJS.ProcessEnv = process.env): InboundSourceSettings[] {
  const problems: ConfigProblem[] = [];
  let ids: string[] = [];
  try {
    ids = loadConfig(
      z.object({ INBOUND_SOURCES: inboundSourcesConfigFragment.INBOUND_SOURCES }),
      environment,
    ).INBOUND_SOURCES;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (!SOURCE_ID.test(id))
      problems.push({
        variable: 'INBOUND_SOURCES',
        message: `"${id}" is not a source id (a-z, 0-9 and "-", starting with a letter, at most 32)`,
      });
    if (seen.has(id)) problems.push({ variable: 'INBOUND_SOURCES', message: `"${id}" is listed twice` });
    seen.add(id);
  }
  const validIds = [...seen].filter((id) => SOURCE_ID.test(id));
  let values: Record<string, unknown> = {};
  try {
    values = loadConfig(inboundSourceVariablesSchema(validIds), environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length) throw new ConfigError(problems);
  const sources = validIds.map((id) => settingsFor(id, values));
  for (const source of sources) problems.push(...secretProblems(source));
  if (problems.length) throw new ConfigError(problems);
  return sources;
}

function settingsFor(id: string, values: Record<string, unknown>): InboundSourceSettings {
  const read = (name: InboundSourceVariable) => values[inboundSourceVariable(id, name)];
  const kind = read('KIND') as InboundKind;
  return {
    id,
    kind,
    secrets: read('SECRET') as string[],
    toleranceSeconds: (read('TOLERANCE_SECONDS') as number | undefined) ?? DEFAULT_TOLERANCE_SECONDS[kind],
  };
}

// Secrets whose form the kind fixes are checked at start-up, so a typo fails there and not on every
// delivery. The messages say which secret (by position), never its value.
function secretProblems(source: InboundSourceSettings): ConfigProblem[] {
  if (source.kind !== 'standard-webhooks') return [];
  return source.secrets.flatMap((secret, index) =>
    STANDARD_WEBHOOKS_SECRET.test(secret) && secret.replace(/^whsec_/, '').length >= 16
      ? []
      : [
          {
            variable: inboundSourceVariable(source.id, 'SECRET'),
            message: `secret #${index + 1} is not a Standard Webhooks secret (base64, optionally prefixed whsec_)`,
          },
        ],
  );
}
