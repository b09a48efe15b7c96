import type { Logger } from '@te/platform';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { ReleaseObjects } from './ports.js';

export interface ObjectReferences {
  /** Which of `objectKeys` some attachment row still references. */
  referencedObjectKeys(objectKeys: string[]): Promise<Set<string>>;
}

/**
 * Deleting sessions (DeleteSession, retention) → their stored objects, once committed: each key no
 * attachment row references any more is deleted from storage. Keys are content-addressed per user, so
 * another session of the same user may hold the same screenshot; its row keeps the object. Failures
 * (database or storage) are logged and dropped: the rows are gone already, and `user.deleted` erases
 * the user's whole prefix anyway.
 */
export function releaseUnreferencedObjects(deps: {
  references: ObjectReferences;
  storage: ObjectStorage;
  logger: Logger;
}): ReleaseObjects {
  return async (objectKeys) => {
    if (objectKeys.length === 0) return;
    let referenced: Set<string>;
    try {
      referenced = await deps.references.referencedObjectKeys(objectKeys);
    } catch (error) {
      deps.logger.warn('objects of deleted sessions kept: reference check failed', {
        objects: objectKeys.length,
        error: errorMessage(error),
      });
      return;
    }
    for (const key of objectKeys) {
      if (referenced.has(key)) continue;
      try {
        await deps.storage.delete(key);
      } catch (error) {
        deps.logger.warn('object of a deleted session not removed', { key, error: errorMessage(error) });
      }
    }
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
