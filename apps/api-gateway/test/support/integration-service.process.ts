import { ServiceProcess } from '@te/testing';

/**
 * A real integration-service (the built binary) with its own migrated database. `env` configures it,
 * e.g. its inbound webhook sources (INBOUND_SOURCES, INBOUND_SOURCE_<ID>_*).
 */
export class IntegrationServiceProcess extends ServiceProcess {
  static async create(env: Record<string, string> = {}): Promise<IntegrationServiceProcess> {
    const options = {
      name: 'integration-service',
      databaseName: 'te_integration',
      queues: ['integration-service.platform-events', 'integration-service.event-stream'],
      env,
    };
    return new IntegrationServiceProcess(options, ...(await ServiceProcess.allocate(options)));
  }
}
