/**
 * The engine races some calls against timers (10 s for PostgreSQL's advisory lock) and, having no
 * clearTimeout import, never cancels them: each would keep Node alive 10 s after the work is done.
 * Its timers are tracked and cleared when the last engine session closes, when no call can be
 * waiting on them any more.
 */
const engineTimers = new Set<NodeJS.Timeout>();
let openSessions = 0;

/** A copy of the wasm glue whose setTimeout import records the timers it starts. */
export function withTrackedTimers(bg: object): object {
  const glue: Record<string, unknown> = { ...bg };
  for (const name of Object.keys(glue).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
    glue[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        engineTimers.delete(timer);
        callback();
      }, ms >>> 0);
      engineTimers.add(timer);
      return timer;
    };
  }
  return glue;
}

export function sessionOpened(): void {
  openSessions += 1;
}

/** Clears the engine's pending timers once no engine session is open. */
export function sessionClosed(): void {
  openSessions -= 1;
  if (openSessions > 0) return;
  for (const timer of engineTimers) clearTimeout(timer);
  engineTimers.clear();
}
