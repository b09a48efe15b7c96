import { callUnary, createGrpcClient, loadProtos, type GrpcClientOptions, type RequestOf } from '@te/grpc';

/**
 * user-service over gRPC (proto/te/user/v1/*.proto): one channel per service, errors arrive as
 * AppError, the caller's principal and client info travel in metadata (see @te/grpc).
 */
export function createUserServiceClient(address: string, options: GrpcClientOptions) {
  const protos = loadProtos().te.user.v1;
  const users = createGrpcClient(protos.UserService, address, options);
  const sessions = createGrpcClient(protos.SessionService, address, options);
  const apiKeys = createGrpcClient(protos.ApiKeyService, address, options);
  const oidc = createGrpcClient(protos.OidcService, address, options);
  const usage = createGrpcClient(protos.UsageService, address, options);
  type Req<C, M extends keyof C> = RequestOf<C, M>;

  return {
    register: (request: { email: string; password: string; name: string }) =>
      callUnary(users, 'Register', request),
    login: (request: { email: string; password: string }) => callUnary(users, 'Login', request),
    getUser: (id: string) => callUnary(users, 'GetUser', { id }),
    getJwks: () => callUnary(users, 'GetJwks', {}),
    getMe: () => callUnary(users, 'GetMe', {}),
    updateProfile: (request: Req<typeof users, 'UpdateProfile'>) =>
      callUnary(users, 'UpdateProfile', request),
    changePassword: (request: Req<typeof users, 'ChangePassword'>) =>
      callUnary(users, 'ChangePassword', request),
    deleteAccount: () => callUnary(users, 'DeleteAccount', {}),
    listSecurityEvents: (request: Req<typeof users, 'ListSecurityEvents'>) =>
      callUnary(users, 'ListSecurityEvents', request),

    sessions: {
      refresh: (refreshToken: string) => callUnary(sessions, 'Refresh', { refreshToken }),
      logout: (sessionId: string) => callUnary(sessions, 'Logout', { sessionId }),
      logoutAll: () => callUnary(sessions, 'LogoutAll', {}),
    },
    apiKeys: {
      create: (request: Req<typeof apiKeys, 'CreateApiKey'>) => callUnary(apiKeys, 'CreateApiKey', request),
      list: () => callUnary(apiKeys, 'ListApiKeys', {}),
      revoke: (id: string) => callUnary(apiKeys, 'RevokeApiKey', { id }),
      authenticate: (secret: string) => callUnary(apiKeys, 'AuthenticateApiKey', { secret }),
    },
    oidc: {
      listProviders: () => callUnary(oidc, 'ListProviders', {}),
      startLogin: (provider: string) => callUnary(oidc, 'StartLogin', { provider }),
      completeLogin: (request: Req<typeof oidc, 'CompleteLogin'>) =>
        callUnary(oidc, 'CompleteLogin', request),
    },
    usage: {
      mine: (request: Req<typeof usage, 'GetMyUsage'>) => callUnary(usage, 'GetMyUsage', request),
      report: (request: Req<typeof usage, 'GetUsageReport'>) => callUnary(usage, 'GetUsageReport', request),
    },

    close: () => {
      for (const client of [users, sessions, apiKeys, oidc, usage]) client.close();
    },
  };
}

export type UserServiceClient = ReturnType<typeof createUserServiceClient>;
