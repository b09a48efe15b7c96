import type { SubscribeOptions } from '@te/events';
import type { RegistryCache } from '../domain/registry-cache.js';
import { REGISTRY_CHANGED } from '../domain/registry.js';

/** The logical name of every replica's own broadcast queue (`<prefix>ai-gateway-service.registry.<host>.<random>`). */
export const REGISTRY_BROADCAST_QUEUE = 'ai-gateway-service.registry';

/**
 * `ai.registry.changed` → reload this replica's registry copy. A broadcast subscription: every replica
 * has its own exclusive queue, so every replica reloads at once (decision 0014). After a reconnection
 * (events may have been missed meanwhile) it reloads too; the periodic refresh (REGISTRY_REFRESH_MS)
 * stays the guarantee. Reloading is idempotent: no processed_events entry.
 */
export function registryChangedSubscription(cache: RegistryCache): SubscribeOptions {
  return {
    queue: REGISTRY_BROADCAST_QUEUE,
    bindings: [REGISTRY_CHANGED],
    broadcast: true,
    // Events arriving while a load runs share the next load (RegistryCache.refresh).
    prefetch: 10,
    handler: () => cache.refresh(),
    // A failed reload is logged by the bus; the next periodic refresh tries again.
    onGap: () => cache.refresh(),
  };
}
