import { ConfigError } from '@te/platform';
import { createProviders } from '../src/providers/create-providers.js';
import { loadProviderSettings } from '../src/providers/provider-config.js';

const problemsOf = (environment: NodeJS.ProcessEnv) => {
  try {
    loadProviderSettings(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('Provider configuration', () => {
  it('When nothing is set, then the built-in local provider is the only one (a fresh start answers)', () => {
    expect(loadProviderSettings({})).toEqual([{ id: 'local', kind: 'local', maxConcurrency: 16 }]);
  });

  it('When several providers are configured, then each gets its kind, URL, key and limits with defaults', () => {
    const settings = loadProviderSettings({
      AI_PROVIDERS: 'openai, anthropic,azure-eu,ollama,local',
      AI_PROVIDER_OPENAI_API_KEY: 'sk-openai',
      AI_PROVIDER_ANTHROPIC_API_KEY: 'sk-ant',
      AI_PROVIDER_ANTHROPIC_TIMEOUT_MS: '30000',
      AI_PROVIDER_AZURE_EU_KIND: 'openai',
      AI_PROVIDER_AZURE_EU_BASE_URL: 'https://te.openai.azure.com/openai/deployments/explainer',
      AI_PROVIDER_AZURE_EU_API_KEY: 'azure-key',
      AI_PROVIDER_AZURE_EU_API_VERSION: '2024-10-21',
      AI_PROVIDER_OLLAMA_KIND: 'openai',
      AI_PROVIDER_OLLAMA_BASE_URL: 'http://ollama:11434/v1',
      AI_PROVIDER_OLLAMA_MAX_CONCURRENCY: '2',
    });

    expect(settings).toEqual([
      {
        id: 'openai',
        kind: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        apiKey: 'sk-openai',
        timeoutMs: 60_000,
        maxConcurrency: 16,
      },
      {
        id: 'anthropic',
        kind: 'anthropic',
        baseUrl: 'https://api.anthropic.com',
        apiKey: 'sk-ant',
        timeoutMs: 30_000,
        maxConcurrency: 16,
      },
      {
        id: 'azure-eu',
        kind: 'openai',
        baseUrl: 'https://te.openai.azure.com/openai/deployments/explainer',
        apiKey: 'azure-key',
        apiVersion: '2024-10-21',
        timeoutMs: 60_000,
        maxConcurrency: 16,
      },
      {
        id: 'ollama',
        kind: 'openai',
        baseUrl: 'http://ollama:11434/v1',
        timeoutMs: 60_000,
        maxConcurrency: 2,
      },
      { id: 'local', kind: 'local', maxConcurrency: 16 },
    ]);
    expect([...createProviders(settings).entries()].map(([id, provider]) => [id, provider.kind])).toEqual([
      ['openai', 'openai'],
      ['anthropic', 'anthropic'],
      ['azure-eu', 'openai'],
      ['ollama', 'openai'],
      ['local', 'local'],
    ]);
  });

  it('When variables are wrong, then start-up fails listing every problem, without echoing the key', () => {
    const problems = problemsOf({
      AI_PROVIDERS: 'openai,Bad_Id,vllm,gemini,anthropic,local,openai',
      AI_PROVIDER_VLLM_KIND: 'openai',
      AI_PROVIDER_VLLM_BASE_URL: 'http://user:secret-pass@vllm:8000/v1',
      AI_PROVIDER_VLLM_TIMEOUT_MS: 'soon',
      AI_PROVIDER_ANTHROPIC_API_VERSION: '2024-10-21',
      AI_PROVIDER_ANTHROPIC_MAX_CONCURRENCY: '0',
      AI_PROVIDER_LOCAL_API_KEY: 'sk-never-needed',
    });

    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'AI_PROVIDERS', // Bad_Id
      'AI_PROVIDERS', // openai twice
      'AI_PROVIDER_ANTHROPIC_API_KEY', // required for api.anthropic.com
      'AI_PROVIDER_ANTHROPIC_API_VERSION',
      'AI_PROVIDER_ANTHROPIC_MAX_CONCURRENCY',
      'AI_PROVIDER_GEMINI_KIND', // not a kind, and no default for this id
      'AI_PROVIDER_LOCAL_API_KEY',
      'AI_PROVIDER_OPENAI_API_KEY', // required for api.openai.com
      'AI_PROVIDER_VLLM_BASE_URL',
      'AI_PROVIDER_VLLM_TIMEOUT_MS',
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/secret-pass|sk-never-needed/);
  });

  it('When AI_PROVIDERS is set to nothing usable, then start-up fails', () => {
    expect(problemsOf({ AI_PROVIDERS: ' , ' })).toEqual([
      { variable: 'AI_PROVIDERS', message: 'must name at least one provider' },
    ]);
  });
});
