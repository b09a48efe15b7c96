import type { NewModelVersion } from '../domain/registry.js';
import type { AiGatewayDb } from './prisma-client.js';
import { RegistryRepository } from './registry.repository.js';

/** What a fresh stack can call with no key and no network: the built-in local provider. */
export const SEED_VERSION: NewModelVersion = {
  model: 'local-explainer',
  version: '1',
  providerId: 'local',
  providerModel: 'extractive-v1',
  capabilities: { vision: false, streaming: true, contextWindow: 32_768, maxOutputTokens: 4_096 },
  inputPricePerMillion: '0',
  outputPricePerMillion: '0',
};
export const SEED_ALIASES = ['explainer', 'explainer@stable'];

// Any constant both replicas agree on; pg_advisory_xact_lock keys are bigint.
const SEED_LOCK = 0x7465_6169_7365_6564n; // "teaiseed"

/**
 * Creates only what is missing, in one transaction under an advisory lock, so replicas starting
 * together neither fail nor duplicate, and an operator's later changes (an alias moved to another
 * version) are never undone. Returns what it created.
 */
export async function seedRegistry(db: AiGatewayDb, source: string): Promise<string[]> {
  const created: string[] = [];
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK})`;
    const registry = new RegistryRepository(tx, undefined, source);
    const name = `${SEED_VERSION.model}@${SEED_VERSION.version}`;
    if (!(await registry.findVersion(name))) {
      await registry.createVersion(SEED_VERSION);
      created.push(name);
    }
    for (const alias of SEED_ALIASES) {
      if (await registry.findAlias(alias)) continue;
      await registry.setAliasTargets(alias, [{ version: name, weight: 100 }]);
      created.push(alias);
    }
  });
  return created;
}
