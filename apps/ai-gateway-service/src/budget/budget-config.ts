import { env } from '@te/platform';
import { z } from 'zod';

/** The token budgets' variables, to spread into the service's schema (decision 0020). */
export const tokenBudgetConfigFragment = {
  AI_TOKEN_BUDGET_PER_DAY: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000_000)
    .describe('tokens (input + output) each user may use per UTC day; 0 = unlimited'),
  AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS: env
    .positiveInt(900)
    .describe('an unsettled reservation (its replica died) frees itself after this long'),
};
