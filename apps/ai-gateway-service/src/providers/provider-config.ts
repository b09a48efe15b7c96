import { ConfigError, env, loadConfig } from '@te/platform';
import { z } from 'zod';
import type { ProviderKind } from './provider.js';

type ConfigProblem = ConfigError['problems'][number];

interface CommonProviderSettings {
  /** From AI_PROVIDERS; names the provider in logs, metrics, the model registry and InferResponse.provider. */
  id: string;
  /** Upper bound on calls in flight to this provider (enforced by the resilience layer, not the adapter). */
  maxConcurrency: number;
}

export interface HttpProviderSettings extends CommonProviderSettings {
  kind: 'openai' | 'anthropic';
  /** OpenAI-compatible: up to and including /v1 (or an Azure deployment URL); Anthropic: the host root. */
  baseUrl: string;
  /** Absent for servers without authentication (vLLM, Ollama, llama.cpp, LM Studio). */
  apiKey?: string;
  /** Time to the response headers, and the longest silence between stream chunks. */
  timeoutMs: number;
  /** OpenAI-compatible only: sent as the `api-version` query, and the key goes in an `api-key` header (Azure). */
  apiVersion?: string;
}

export interface LocalProviderSettings extends CommonProviderSettings {
  kind: 'local';
}

export type ProviderSettings = HttpProviderSettings | LocalProviderSettings;

export const PROVIDER_KINDS = ['openai', 'anthropic', 'local'] as const satisfies readonly ProviderKind[];
const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;
const DEFAULT_BASE_URL = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com' };
// Hosted APIs that always want a key; self-hosted OpenAI-compatible servers usually do not.
const KEY_REQUIRED_HOSTS = ['api.openai.com', 'api.anthropic.com'];

/**
 * The static part of the provider configuration, to spread into the service's schema. The
 * per-provider variables depend on AI_PROVIDERS and are read by loadProviderSettings.
 */
export const aiProvidersConfigFragment = {
  AI_PROVIDERS: env
    .list(['local'])
    .describe('comma-separated provider ids; each is configured by AI_PROVIDER_<ID>_* (default "local")'),
};

export type ProviderVariable =
  'KIND' | 'BASE_URL' | 'API_KEY' | 'TIMEOUT_MS' | 'MAX_CONCURRENCY' | 'API_VERSION';

/** AI_PROVIDER_<ID>_<NAME>: "azure-eu" → AI_PROVIDER_AZURE_EU_BASE_URL. */
export function providerVariable(id: string, name: ProviderVariable): string {
  return `AI_PROVIDER_${id.toUpperCase().replace(/-/g, '_')}_${name}`;
}

const baseUrl = z.url({ protocol: /^https?$/ }).refine(
  (value) => {
    const url = new URL(value);
    return !url.username && !url.password && !url.search && !url.hash;
  },
  { message: 'must be an http(s) URL without credentials, query or fragment (put the key in _API_KEY)' },
);

/** The per-provider variables for these ids (kinds default to the id when it names one). */
export function providerVariablesSchema(ids: readonly string[], environment: NodeJS.ProcessEnv) {
  const shape: Record<string, z.ZodType> = {};
  for (const id of ids) {
    const defaultKind = (PROVIDER_KINDS as readonly string[]).includes(id) ? id : undefined;
    const kind = z.enum(PROVIDER_KINDS);
    shape[providerVariable(id, 'KIND')] = defaultKind ? kind.default(defaultKind as ProviderKind) : kind;
    shape[providerVariable(id, 'MAX_CONCURRENCY')] = env.positiveInt(16);
    const declared = environment[providerVariable(id, 'KIND')] || defaultKind;
    if (declared === 'openai' || declared === 'anthropic') {
      shape[providerVariable(id, 'BASE_URL')] = baseUrl.default(DEFAULT_BASE_URL[declared]);
      shape[providerVariable(id, 'API_KEY')] = z.string().min(1).optional();
      shape[providerVariable(id, 'TIMEOUT_MS')] = z.coerce.number().int().min(1).default(60_000);
      shape[providerVariable(id, 'API_VERSION')] = z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must look like 2024-10-21 or 2024-12-01-preview' })
        .optional();
    }
  }
  return z.object(shape);
}

/**
 * Reads AI_PROVIDERS and each provider's AI_PROVIDER_<ID>_KIND (openai | anthropic | local; defaults
 * to the id when the id is a kind), _BASE_URL, _API_KEY, _TIMEOUT_MS (60000), _MAX_CONCURRENCY (16)
 * and _API_VERSION (OpenAI-compatible only). Throws ConfigError listing every problem at once.
 */
export function loadProviderSettings(environment: NodeJS.ProcessEnv = process.env): ProviderSettings[] {
  const problems: ConfigProblem[] = [];
  let ids: string[] = [];
  try {
    ids = loadConfig(z.object(aiProvidersConfigFragment), environment).AI_PROVIDERS;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (ids.length === 0 && problems.length === 0)
    problems.push({ variable: 'AI_PROVIDERS', message: 'must name at least one provider' });
  const seen = new Set<string>();
  for (const id of ids) {
    if (!PROVIDER_ID.test(id))
      problems.push({
        variable: 'AI_PROVIDERS',
        message: `"${id}" is not a provider id (a-z, 0-9 and "-", starting with a letter, at most 32)`,
      });
    if (seen.has(id)) problems.push({ variable: 'AI_PROVIDERS', message: `"${id}" is listed twice` });
    seen.add(id);
  }
  const validIds = [...seen].filter((id) => PROVIDER_ID.test(id));
  let values: Record<string, unknown> = {};
  try {
    values = loadConfig(providerVariablesSchema(validIds, environment), environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  for (const id of validIds) problems.push(...crossFieldProblems(id, environment));
  if (problems.length) throw new ConfigError(problems);
  return validIds.map((id) => settingsFor(id, values));
}

// Checks across variables, on the raw values (so they are listed even when another variable is bad).
function crossFieldProblems(id: string, environment: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const raw = (name: ProviderVariable) => environment[providerVariable(id, name)] || undefined;
  const kind = raw('KIND') ?? ((PROVIDER_KINDS as readonly string[]).includes(id) ? id : undefined);
  if (kind === 'local') {
    for (const name of ['BASE_URL', 'API_KEY', 'TIMEOUT_MS', 'API_VERSION'] as const)
      if (raw(name))
        problems.push({
          variable: providerVariable(id, name),
          message: 'the local provider takes no such setting',
        });
  }
  if (kind === 'anthropic' && raw('API_VERSION'))
    problems.push({
      variable: providerVariable(id, 'API_VERSION'),
      message: 'only OpenAI-compatible providers take an api-version',
    });
  if ((kind === 'openai' || kind === 'anthropic') && !raw('API_KEY')) {
    const host = URL.parse(raw('BASE_URL') ?? DEFAULT_BASE_URL[kind])?.hostname;
    if (host && KEY_REQUIRED_HOSTS.includes(host))
      problems.push({ variable: providerVariable(id, 'API_KEY'), message: `is required for ${host}` });
  }
  return problems;
}

function settingsFor(id: string, values: Record<string, unknown>): ProviderSettings {
  const read = (name: ProviderVariable) => values[providerVariable(id, name)];
  const kind = read('KIND') as ProviderKind;
  const maxConcurrency = read('MAX_CONCURRENCY') as number;
  if (kind === 'local') return { id, kind, maxConcurrency };
  const settings: HttpProviderSettings = {
    id,
    kind,
    maxConcurrency,
    baseUrl: read('BASE_URL') as string,
    timeoutMs: read('TIMEOUT_MS') as number,
  };
  if (read('API_KEY')) settings.apiKey = read('API_KEY') as string;
  if (read('API_VERSION')) settings.apiVersion = read('API_VERSION') as string;
  return settings;
}
