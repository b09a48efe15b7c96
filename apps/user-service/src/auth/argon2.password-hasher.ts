import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../domain/ports.js';

/** OWASP Password Storage Cheat Sheet: argon2id with at least m=19 MiB, t=2, p=1. */
export const OWASP_MINIMUM = { memoryKib: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

// `Algorithm` is an ambient const enum (not usable under isolatedModules); 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export class Argon2PasswordHasher implements PasswordHasher {
  readonly decoyHash: Promise<string>;
  private readonly options;

  constructor(private readonly parameters: Argon2Parameters = OWASP_MINIMUM) {
    if (
      parameters.memoryKib < OWASP_MINIMUM.memoryKib ||
      parameters.timeCost < OWASP_MINIMUM.timeCost ||
      parameters.parallelism < 1
    ) {
      throw new Error('argon2 parameters are below the OWASP minimum (m=19456 KiB, t=2, p=1)');
    }
    this.options = {
      algorithm: ARGON2ID,
      memoryCost: parameters.memoryKib,
      timeCost: parameters.timeCost,
      parallelism: parameters.parallelism,
    };
    this.decoyHash = this.hash(randomBytes(32).toString('base64url'));
    this.decoyHash.catch(() => undefined);
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash never authenticates
    }
  }

  needsRehash(passwordHash: string): boolean {
    try {
      const current = parseOptions(passwordHash);
      return (
        current.algorithm !== ARGON2ID ||
        current.memoryCost < this.parameters.memoryKib ||
        current.timeCost < this.parameters.timeCost ||
        current.parallelism < this.parameters.parallelism
      );
    } catch {
      return true;
    }
  }
}
