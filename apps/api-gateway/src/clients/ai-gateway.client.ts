import { callUnary, createGrpcClient, loadProtos, type GrpcClientOptions } from '@te/grpc';

/**
 * ai-gateway-service over gRPC (proto/te/ai/v1/inference.proto): the model catalog the caller may
 * name. The principal travels in metadata; the service decides what that caller may see.
 */
export function createAiGatewayClient(address: string, options: GrpcClientOptions) {
  const catalog = createGrpcClient(loadProtos().te.ai.v1.ModelCatalog, address, options);

  return {
    models: {
      list: () => callUnary(catalog, 'ListModels', {}),
    },
    close: () => catalog.close(),
  };
}

export type AiGatewayClient = ReturnType<typeof createAiGatewayClient>;
