import { ConfigError, env, loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import type { z } from 'zod';
import { tokenBudgetConfigFragment } from './budget/budget-config.js';
import { responseCacheConfigFragment } from './cache/cache-config.js';
import { queuedInferenceConfigFragment } from './jobs/queued-inference.config.js';
import { aiProvidersConfigFragment, loadProviderSettings, type ProviderSettings } from './providers/index.js';
import { resilienceConfigFragment } from './resilience/resilience-config.js';

/** Every variable ai-gateway-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const aiGatewayServiceConfigSchema = serviceConfigSchema({
  name: 'ai-gateway-service',
  grpcPort: 50053,
  httpPort: 8083,
  database: 'te_ai_gateway',
}).extend({
  // Providers: AI_PROVIDERS=local,openai and, for each, AI_PROVIDER_<ID>_* (src/providers/provider-config.ts).
  ...aiProvidersConfigFragment,
  // Retries, circuit breakers and concurrency queues around every provider call (decision 0015).
  ...resilienceConfigFragment,
  // SubmitInference's work queue, its workers and sweeper (src/jobs).
  ...queuedInferenceConfigFragment,
  // The opt-in response cache and per-user token budgets, in Redis (decision 0020).
  ...responseCacheConfigFragment,
  ...tokenBudgetConfigFragment,
  REGISTRY_REFRESH_MS: env
    .positiveInt(5_000)
    .describe('each replica re-reads the model registry this often (besides on ai.registry.changed)'),
});

export type AiGatewayServiceConfig = z.infer<typeof aiGatewayServiceConfigSchema> & {
  /** AI_PROVIDERS with each provider's AI_PROVIDER_<ID>_* variables. */
  providers: ProviderSettings[];
};

export function loadAiGatewayServiceConfig(
  environment: NodeJS.ProcessEnv = process.env,
): AiGatewayServiceConfig {
  // Per-provider variables have dynamic names, so they are read beside the schema; one ConfigError
  // still lists every bad variable of both.
  const problems: ConfigError['problems'] = [];
  const read = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const config = read(() => loadConfig(aiGatewayServiceConfigSchema, environment));
  const providers = read(() => loadProviderSettings(environment));
  if (!config || !providers) {
    // AI_PROVIDERS is read by both; list each problem once.
    const unique = new Map(problems.map((problem) => [`${problem.variable}\0${problem.message}`, problem]));
    throw new ConfigError([...unique.values()]);
  }
  return { ...config, providers };
}
