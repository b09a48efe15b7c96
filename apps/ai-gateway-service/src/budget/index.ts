export { tokenBudgetConfigFragment } from './budget-config.js';
export { dailyWindow, secondsUntilReset, type BudgetWindow } from './budget-window.js';
export { RedisTokenBudget, type TokenBudgetSettings } from './redis-token-budget.js';
export { reservationTokens } from './reservation-size.js';
