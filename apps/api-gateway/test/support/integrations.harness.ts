import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { register, startGateway, type RunningGateway, type Session } from './gateway.harness.js';
import { IntegrationServiceProcess } from './integration-service.process.js';
import { UserServiceProcess } from './user-service.process.js';

export interface IntegrationsStack {
  userService: UserServiceProcess;
  integrationService: IntegrationServiceProcess;
  gateway: RunningGateway;
  /** http://127.0.0.1:<port> of the test's receiver (the customer's server). */
  receiverUrl: string;
  /** Two users registered through the gateway. */
  alice: Session;
  bob: Session;
  /** Stops the gateway, the two processes and the receiver. */
  stop(): Promise<void>;
}

/**
 * A receiver on loopback answering with `receive`, then the gateway in this process → real
 * user-service and integration-service processes (deliveries allowed to loopback, polled every
 * 100 ms; `integrationEnv` adds variables and may use the receiver's URL), with two registered users.
 * On a failed start, whatever was started is stopped.
 */
export async function startIntegrationsStack(
  receive: http.RequestListener,
  integrationEnv: (receiverUrl: string) => Record<string, string> = () => ({}),
): Promise<IntegrationsStack> {
  const receiver = http.createServer(receive);
  let userService: UserServiceProcess | undefined;
  let integrationService: IntegrationServiceProcess | undefined;
  let gateway: RunningGateway | undefined;
  const stop = async () => {
    await gateway?.stop();
    await userService?.dispose();
    await integrationService?.dispose();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  };
  try {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    userService = await UserServiceProcess.create();
    integrationService = await IntegrationServiceProcess.create({
      WEBHOOK_ALLOWED_DESTINATIONS: '127.0.0.0/8',
      WEBHOOK_POLL_INTERVAL_MS: '100',
      ...integrationEnv(receiverUrl),
    });
    await Promise.all([userService.start(), integrationService.start()]);
    gateway = await startGateway(userService.address, {
      INTEGRATION_SERVICE_ADDR: integrationService.address,
      GRPC_DEADLINE_MS: '10000',
    });
    const alice = (await register(gateway.baseUrl)).body.data!;
    const bob = (await register(gateway.baseUrl)).body.data!;
    return { userService, integrationService, gateway, receiverUrl, alice, bob, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
