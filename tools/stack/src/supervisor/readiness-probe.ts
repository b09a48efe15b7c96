import http from 'node:http';

export type ProbeOutcome = { ready: true } | { ready: false; reason: string };

/**
 * One GET of a readiness URL: ready on 200. A fresh connection each time (no agent), so no idle
 * keep-alive socket outlives the poll and holds a stopping service's ops server open.
 */
export function probeReadiness(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const request = http.get(
      url,
      { agent: false, timeout: timeoutMs, headers: { connection: 'close' } },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(status === 200 ? { ready: true } : { ready: false, reason: `answered ${status}` });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ready: false, reason: error.code ?? error.message }),
    );
  });
}
