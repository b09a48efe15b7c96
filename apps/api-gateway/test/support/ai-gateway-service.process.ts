import { ServiceProcess } from '@te/testing';

/**
 * A real ai-gateway-service (the built binary) with its own migrated database, seeded at start with
 * the local provider's `local-explainer@1` behind `explainer` and `explainer@stable`. It trusts the
 * principal the gateway puts in gRPC metadata.
 */
export class AiGatewayServiceProcess extends ServiceProcess {
  static async create(): Promise<AiGatewayServiceProcess> {
    const options = {
      name: 'ai-gateway-service',
      databaseName: 'te_ai_gateway',
      queues: ['ai-gateway-service.inferences', 'ai-gateway-service.user-deleted'],
      env: { AI_PROVIDERS: 'local' },
    };
    return new AiGatewayServiceProcess(options, ...(await ServiceProcess.allocate(options)));
  }
}
