import { createPaint, type Paint } from './logs/colours.js';
import { GATEWAY_API_URL } from './service-catalog.js';

const REGISTER_EXAMPLE =
  `curl -s -X POST ${GATEWAY_API_URL}/auth/register -H 'content-type: application/json' ` +
  `-d '{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada"}'`;

/** Printed once every service is ready: where the API is and one request to try. */
export function formatBanner(paint: Paint = createPaint(false), apiUrl = GATEWAY_API_URL): string {
  const rule = '='.repeat(72);
  return [
    rule,
    paint.bold(paint.green('TE-explico is running')),
    `  API          ${paint.bold(apiUrl)}`,
    `  Register     ${apiUrl === GATEWAY_API_URL ? REGISTER_EXAMPLE : REGISTER_EXAMPLE.replace(GATEWAY_API_URL, apiUrl)}`,
    '  Stop         Ctrl-C (twice to kill)',
    rule,
  ].join('\n');
}
