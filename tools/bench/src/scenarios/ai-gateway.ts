import { randomUUID } from 'node:crypto';
import { waitFor } from '@te/testing';
import type { Principal } from '@te/platform';
import { asPrincipal, callUnary, inferenceClient } from '../grpc-clients.js';
import { closedLoop } from '../load.js';
import { loadRows, type Scenario } from '../scenario.js';

/** The model version the bench registers on the loopback provider (`loop`, kind openai). */
const VERSION = { model: 'bench-gpt', version: '1', name: 'bench-gpt@1', providerModel: 'gpt-4o-mini' };
const PROMPT = 'The screenshot shows a dialog: "The disk is full". What does it mean?';

/**
 * 4. ai-gateway-service's overhead: `Infer` over gRPC (validation, registry resolution, token budget
 * in Redis, breaker and concurrency slot, the provider call, exact pricing, the answer and its
 * `ai.inference.completed` stored in one transaction) against the same chat completion posted
 * directly to the OpenAI-compatible server on loopback. Both in the same closed loop.
 */
export const aiGateway: Scenario = {
  id: 4,
  title: 'AI gateway: Infer over gRPC vs the provider on loopback directly',
  async run({ stack, load, log }) {
    const origin = stack.aiProviderOrigin;
    if (!origin) throw new Error('scenario 4 needs the loopback provider started before ai-gateway-service');
    await stack.ensure(['ai-gateway-service']);
    const clients = inferenceClient(`127.0.0.1:${stack.service('ai-gateway-service').port}`);
    const admin: Principal = {
      userId: randomUUID(),
      roles: ['admin'],
      scopes: ['admin:models:read', 'admin:models:write', 'explain'],
    };
    const user: Principal = { userId: randomUUID(), roles: ['user'], scopes: ['explain'] };
    try {
      await registerVersion(clients, admin);
      const body = JSON.stringify({
        model: VERSION.providerModel,
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: 64,
      });
      log('4: direct POST /v1/chat/completions to the loopback provider');
      const baseline = await closedLoop(async () => {
        const response = await fetch(`${origin}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`provider answered ${response.status}`);
      }, load);
      log('4: Infer over gRPC through ai-gateway-service');
      const subject = await closedLoop(
        () =>
          asPrincipal(user, () =>
            callUnary(clients.inference, 'Infer', {
              requestId: randomUUID(),
              model: VERSION.name,
              messages: [{ role: 'user', content: [{ text: PROMPT }] }],
              maxOutputTokens: 64,
            }),
          ),
        load,
      );
      return loadRows('4 provider direct → Infer via ai-gateway-service', baseline, subject);
    } finally {
      for (const client of Object.values(clients)) client.close();
    }
  },
};

async function registerVersion(clients: ReturnType<typeof inferenceClient>, admin: Principal): Promise<void> {
  await asPrincipal(admin, () =>
    callUnary(clients.admin, 'CreateModelVersion', {
      model: VERSION.model,
      version: VERSION.version,
      providerId: 'loop',
      providerModel: VERSION.providerModel,
      parametersJson: '',
      capabilities: { vision: false, streaming: true, contextWindow: 128_000, maxOutputTokens: 4_096 },
      inputPricePerMillion: '0.15',
      outputPricePerMillion: '0.6',
    }),
  );
  await waitFor(
    async () => {
      const { models } = await asPrincipal(admin, () => callUnary(clients.catalog, 'ListModels', {}));
      return models.some((model) => model.name === VERSION.name);
    },
    { timeoutMs: 15_000, description: `${VERSION.name} in the catalog` },
  );
}
