/** A budget window: one UTC day. */
export interface BudgetWindow {
  /** "2026-06-01". */
  id: string;
  /** The next UTC midnight, when the window resets. */
  endsAt: Date;
}

export function dailyWindow(now: Date): BudgetWindow {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { id: new Date(start).toISOString().slice(0, 10), endsAt: new Date(start + 24 * 3600_000) };
}

/** Whole seconds from `now` until the window resets (at least 1). */
export function secondsUntilReset(window: BudgetWindow, now: Date): number {
  return Math.max(1, Math.ceil((window.endsAt.getTime() - now.getTime()) / 1000));
}
