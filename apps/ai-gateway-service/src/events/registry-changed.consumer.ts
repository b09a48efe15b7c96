import type { SubscribeOptions } from '@te/events';
import type { RegistryCache } from '../domain/registry-cache.js';
import { REGISTRY_CHANGED } from '../domain/registry.js';

/** The service's own queue for registry changes (a shared, competing-consumer queue). */
export const REGISTRY_QUEUE = 'ai-gateway-service.registry';

/**
 * `ai.registry.changed` → reload this replica's registry copy. @te/events offers only one durable
 * queue per service (competing consumers), so one replica hears each event; the others catch up on
 * their periodic refresh (REGISTRY_REFRESH_MS). The queue also keeps the event routable, so the
 * outbox relay does not retry it as unroutable. Reloading is idempotent: no processed_events entry.
 */
export function registryChangedSubscription(cache: RegistryCache): SubscribeOptions {
  return {
    queue: REGISTRY_QUEUE,
    bindings: [REGISTRY_CHANGED],
    prefetch: 1,
    handler: () => cache.refresh(),
  };
}
