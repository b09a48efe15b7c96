/** How one child process ended. */
export interface ExitReport {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed with SIGKILL by the supervisor (stop timeout, or a second Ctrl-C). */
  forced: boolean;
  /** The process could not be started at all (e.g. ENOENT). */
  error?: string;
}

/** Exit code 0, or ended by the SIGTERM we sent to a process without a handler. */
export function exitedCleanly(report: ExitReport): boolean {
  return !report.forced && !report.error && (report.code === 0 || report.signal === 'SIGTERM');
}

export function describeExit(report: ExitReport): string {
  if (report.error) return `could not start: ${report.error}`;
  if (report.forced) return 'killed with SIGKILL (did not stop in time)';
  if (report.code !== null) return `exit code ${report.code}`;
  return `ended by ${report.signal ?? 'an unknown cause'}`;
}
