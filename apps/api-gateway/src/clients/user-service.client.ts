import { callUnary, createGrpcClient, loadProtos, type GrpcClientOptions } from '@te/grpc';

/** user-service over gRPC (proto/te/user/v1/user.proto); errors arrive as AppError. */
export function createUserServiceClient(address: string, options: GrpcClientOptions) {
  const client = createGrpcClient(loadProtos().te.user.v1.UserService, address, options);
  return {
    register: (request: { email: string; password: string; name: string }) =>
      callUnary(client, 'Register', request),
    login: (request: { email: string; password: string }) => callUnary(client, 'Login', request),
    getUser: (id: string) => callUnary(client, 'GetUser', { id }),
    getJwks: () => callUnary(client, 'GetJwks', {}),
    close: () => client.close(),
  };
}

export type UserServiceClient = ReturnType<typeof createUserServiceClient>;
