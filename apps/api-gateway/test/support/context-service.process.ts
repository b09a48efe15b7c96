import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceProcess, type ServiceProcessOptions, type ServiceTestEnv } from '@te/testing';

/**
 * A real context-service (the built binary) with its own migrated database and a temporary folder
 * as its object storage. `env` adds variables, e.g. AI_GATEWAY_SERVICE_ADDR of the test's fake AI
 * gateway. It trusts the principal the gateway puts in gRPC metadata, as deployed.
 */
export class ContextServiceProcess extends ServiceProcess {
  private constructor(
    options: ServiceProcessOptions,
    testEnv: ServiceTestEnv,
    grpcPort: number,
    httpPort: number,
    /** Its object storage (filesystem driver): uploaded screenshots of the run. */
    readonly storageRoot: string,
  ) {
    super(options, testEnv, grpcPort, httpPort);
  }

  static async create(env: Record<string, string> = {}): Promise<ContextServiceProcess> {
    const storageRoot = await mkdtemp(path.join(tmpdir(), 'te-gateway-objects-'));
    const options = {
      name: 'context-service',
      databaseName: 'te_context',
      queues: ['context-service.user-deleted', 'context-service.ocr', 'context-service.replies'],
      env: { STORAGE_FS_ROOT: storageRoot, ...env },
    };
    return new ContextServiceProcess(options, ...(await ServiceProcess.allocate(options)), storageRoot);
  }

  /** Also removes the stored objects of the run. */
  override async dispose(): Promise<void> {
    try {
      await super.dispose();
    } finally {
      await rm(this.storageRoot, { recursive: true, force: true });
    }
  }
}
