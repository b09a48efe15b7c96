import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';

const VALID = /^[a-z0-9]{1,16}$/;

/**
 * A short id for this test run, used in every name a test creates (databases `<db>_t<runid>_…`,
 * exchange `te.events.t<runid>`, queue prefix `t<runid>.`, Redis prefix `t<runid>:`), so runs never
 * collide and leftovers of a crashed run are recognisable.
 *
 * `TE_TEST_RUN_ID` overrides it (lower-case letters and digits). Otherwise it is derived from the
 * process id and start time: every test file of one Jest worker sees the same id (Jest gives each
 * file fresh modules and a copied `process.env`, so a random value kept in this module would not be
 * stable), and no two live processes share one.
 */
export function runId(): string {
  const override = process.env['TE_TEST_RUN_ID'];
  if (override !== undefined && override !== '') {
    if (!VALID.test(override))
      throw new Error(
        `TE_TEST_RUN_ID must be 1-16 lower-case letters or digits, got ${JSON.stringify(override)}`,
      );
    return override;
  }
  return createHash('sha256')
    .update(`${hostname()}:${process.pid}:${performance.timeOrigin}`)
    .digest('hex')
    .slice(0, 8);
}
