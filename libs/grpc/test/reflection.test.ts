import path from 'node:path';
import { credentials, loadPackageDefinition, type ClientDuplexStream, type GrpcObject } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { startUserService, type Harness } from './support.js';

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
}
type ReflectionStream = ClientDuplexStream<Record<string, string>, ReflectionResponse>;

function reflectionClient(address: string): { ServerReflectionInfo(): ReflectionStream; close(): void } {
  const root = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
  const definition = loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [root], oneofs: true });
  const pkg = loadPackageDefinition(definition) as GrpcObject;
  const Ctor = ((pkg['grpc'] as GrpcObject)['reflection'] as GrpcObject)['v1'] as GrpcObject;
  const ClientCtor = Ctor['ServerReflection'] as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => { ServerReflectionInfo(): ReflectionStream; close(): void };
  return new ClientCtor(address, credentials.createInsecure());
}

function ask(stream: ReflectionStream, request: Record<string, string>): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
    stream.write(request);
  });
}

describe('gRPC server reflection', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When a tool asks for the services, then UserService and the health service are listed and describable', async () => {
    harness = await startUserService();
    const client = reflectionClient(harness.address);
    const stream = client.ServerReflectionInfo();
    try {
      const listed = await ask(stream, { listServices: '' });
      const names = listed.listServicesResponse?.service.map((service) => service.name);
      expect(names).toEqual(expect.arrayContaining(['te.user.v1.UserService', 'grpc.health.v1.Health']));

      const described = await ask(stream, { fileContainingSymbol: 'te.user.v1.UserService' });
      const files = described.fileDescriptorResponse?.fileDescriptorProto.map((bytes) =>
        bytes.toString('latin1'),
      );
      const userFile = files?.find((file) => file.includes('te.user.v1') && file.includes('RegisterRequest'));
      expect(userFile).toBeDefined();
      // Field names as written in the proto, which is what grpcurl users type.
      expect(userFile).toContain('created_at');
      expect(userFile).not.toContain('createdAt');
    } finally {
      stream.end();
      client.close();
    }
  });
});
