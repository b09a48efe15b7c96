/**
 * Liveness says the process runs; readiness says it can serve: its own dependencies answer and it is
 * not shutting down. Readiness fails first on SIGTERM so load balancers stop routing before we close.
 */
export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  duration_ms: number;
  error?: string;
  /** Present (false) on checks that are reported but do not decide readiness. */
  critical?: false;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

interface RegisteredCheck {
  name: string;
  check: ReadinessCheck;
  timeoutMs: number;
  critical: boolean;
}

export interface ReadinessCheckOptions {
  timeoutMs?: number;
  /**
   * false: reported in the detailed view but never makes the service unready. For peers whose outage
   * the service answers gracefully (a gateway returns 503 in its envelope when a backend is down;
   * taking every gateway replica out of the load balancer would answer nothing at all).
   */
  critical?: boolean;
}

export class Health {
  private readonly checks: RegisteredCheck[] = [];
  private stopping = false;

  addReadinessCheck(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): void {
    this.checks.push({
      name,
      check,
      timeoutMs: options.timeoutMs ?? 2_000,
      critical: options.critical ?? true,
    });
  }

  markShuttingDown(): void {
    this.stopping = true;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  async readiness(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map((c) => runCheck(c)));
    const checks = Object.fromEntries(
      results.map((r, i) => [
        this.checks[i].name,
        this.checks[i].critical ? r : { ...r, critical: false as const },
      ]),
    );
    if (this.stopping) checks['shutdown'] = { ok: false, duration_ms: 0, error: 'shutting down' };
    const ready = !this.stopping && results.every((r, i) => r.ok || !this.checks[i].critical);
    return { ready, checks };
  }
}

async function runCheck({ check, timeoutMs }: RegisteredCheck): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, duration_ms: elapsed(started) };
  } catch (error) {
    return {
      ok: false,
      duration_ms: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
