import { randomUUID } from 'node:crypto';
import { AppError, type Logger, type Redis } from '@te/platform';
import { Counter, type Registry } from 'prom-client';
import { RedisOutageGuard } from '../cache/redis-outage-guard.js';
import { unlinkByPrefix } from '../cache/unlink-by-prefix.js';
import type { TokenBudget, TokenReservation } from '../domain/ports.js';
import { RESERVE, SETTLE, STATE } from './budget-scripts.js';
import { dailyWindow, secondsUntilReset, type BudgetWindow } from './budget-window.js';

export interface TokenBudgetSettings {
  /** Tokens (input + output) each user may use per UTC day (AI_TOKEN_BUDGET_PER_DAY); 0 = unlimited. */
  tokensPerDay: number;
  /** How long a hold lives unsettled (AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS): a crashed call's hold frees itself. */
  reservationTtlSeconds: number;
  /** A Redis call slower than this counts as an outage (fail-open) for that request. */
  timeoutMs?: number;
  /** The service's metrics registry (/metrics); none in component tests. */
  registry?: Registry;
}

/** Refused only because other calls of the user are in flight: they settle within seconds, usually. */
const IN_FLIGHT_RETRY_SECONDS = 5;
/** Keys outlive their window by a day, so calls running across midnight still settle into it. */
const KEY_GRACE_MS = 24 * 3600_000;

/**
 * Per-user token budgets in Redis (decision 0020): a hold is taken atomically by a Lua script before
 * the provider is called (refused when used + held + this would pass the budget), then replaced by
 * the real usage (settle) or dropped (release). Holds expire on their own after a TTL.
 *
 * Fails open: when Redis cannot answer, the call goes ahead unchecked (an unenforced reservation) and
 * the outage is logged once — the budget is a cost guard, and an AI answer is worth more than a
 * bounded overrun during a Redis outage.
 */
export class RedisTokenBudget implements TokenBudget {
  private readonly guard: RedisOutageGuard;
  private readonly reservations?: Counter<'outcome'>;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly settings: TokenBudgetSettings,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.guard = new RedisOutageGuard(redis, logger, {
      component: 'token budget',
      consequence: 'budgets are not enforced (fail-open)',
      timeoutMs: settings.timeoutMs,
    });
    if (settings.registry)
      this.reservations = new Counter({
        name: 'ai_token_budget_reservations_total',
        help: 'Token budget reservations, by outcome: held, refused, unenforced (Redis unavailable: fail-open)',
        labelNames: ['outcome'],
        registers: [settings.registry],
      });
  }

  /** Every budget key of a user starts with this (erasure: SCAN MATCH `<prefix>*`, UNLINK). */
  static userPrefix(userId: string): string {
    return `ai-budget:{${userId}:`;
  }

  /** Erases a user's budget windows and holds (user.deleted); throws when Redis cannot, so it is retried. */
  forgetUser(userId: string): Promise<number> {
    return unlinkByPrefix(this.redis, RedisTokenBudget.userPrefix(userId));
  }

  static keys(userId: string, window: string): [string, string] {
    const state = `${RedisTokenBudget.userPrefix(userId)}${window}}`;
    return [state, `${state}:holds`];
  }

  async reserve(userId: string, tokens: number): Promise<TokenReservation> {
    const now = this.clock();
    const window = dailyWindow(now);
    const budget = this.settings.tokensPerDay;
    const id = randomUUID();
    // A request larger than the whole budget may still run on an untouched window (max_output_tokens 0
    // means the model's maximum, which can exceed a small budget); its real usage then settles.
    const held = Math.max(0, Math.min(Math.ceil(tokens), budget));
    const unenforced = { id, userId, window: window.id, tokens: held, enforced: false };
    if (budget === 0) return unenforced;
    const reply = await this.guard.run('reserve', () =>
      this.redis.eval(
        RESERVE,
        2,
        ...RedisTokenBudget.keys(userId, window.id),
        String(now.getTime()),
        id,
        String(held),
        String(budget),
        String(this.settings.reservationTtlSeconds * 1000),
        String(window.endsAt.getTime() + KEY_GRACE_MS),
      ),
    );
    if (!reply.ok) {
      this.reservations?.inc({ outcome: 'unenforced' });
      return unenforced;
    }
    const [accepted, used, inFlight] = (reply.value as number[]).map(Number);
    this.reservations?.inc({ outcome: accepted === 1 ? 'held' : 'refused' });
    if (accepted === 1) return { ...unenforced, enforced: true };
    throw exhausted({ budget, used, inFlight, tokens: held, window, now });
  }

  settle(reservation: TokenReservation, usedTokens: number): Promise<void> {
    return this.finish(reservation, Math.max(0, Math.ceil(usedTokens)), 'settle');
  }

  release(reservation: TokenReservation): Promise<void> {
    return this.finish(reservation, 0, 'release');
  }

  /** The user's window now (expired holds dropped): for tests and operators. */
  async state(userId: string, now = this.clock()): Promise<{ used: number; held: number } | undefined> {
    const reply = await this.guard.run('state', () =>
      this.redis.eval(STATE, 2, ...RedisTokenBudget.keys(userId, dailyWindow(now).id), String(now.getTime())),
    );
    if (!reply.ok) return undefined;
    const [used, held] = (reply.value as number[]).map(Number);
    return { used, held };
  }

  private async finish(reservation: TokenReservation, spent: number, operation: string): Promise<void> {
    if (!reservation.enforced) return;
    const now = this.clock();
    const endsAt = Date.parse(`${reservation.window}T00:00:00Z`) + 24 * 3600_000;
    const reply = await this.guard.run(operation, () =>
      this.redis.eval(
        SETTLE,
        2,
        ...RedisTokenBudget.keys(reservation.userId, reservation.window),
        String(now.getTime()),
        reservation.id,
        String(spent),
        String(endsAt + KEY_GRACE_MS),
      ),
    );
    // Unsettled: the hold expires after its TTL, and these tokens go uncounted (logged by the guard).
    if (!reply.ok)
      this.logger.warn('token budget not settled', {
        reservation_id: reservation.id,
        tokens: spent,
        operation,
      });
  }
}

function exhausted(state: {
  budget: number;
  used: number;
  inFlight: number;
  tokens: number;
  window: BudgetWindow;
  now: Date;
}): AppError {
  const untilReset = secondsUntilReset(state.window, state.now);
  // Only the user's calls in flight stand in the way: they settle (usually below their hold) soon.
  const waitingOnInFlight = state.used + state.tokens <= state.budget;
  return new AppError(
    'RATE_LIMITED',
    waitingOnInFlight
      ? 'Your token budget is held by your inferences in progress; try again shortly'
      : `Your daily token budget is used up; it resets at ${state.window.endsAt.toISOString()}`,
    {
      retryAfterSeconds: waitingOnInFlight ? Math.min(IN_FLIGHT_RETRY_SECONDS, untilReset) : untilReset,
      details: {
        reason: 'token_budget',
        budget_tokens: state.budget,
        used_tokens: state.used,
        held_tokens: state.inFlight,
        requested_tokens: state.tokens,
        resets_at: state.window.endsAt.toISOString(),
      },
    },
  );
}
