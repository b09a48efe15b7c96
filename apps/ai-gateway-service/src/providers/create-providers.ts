import { AnthropicProvider } from './anthropic.provider.js';
import type { ProviderDependencies } from './http-provider.js';
import { LocalProvider } from './local.provider.js';
import { OpenAiCompatibleProvider } from './openai.provider.js';
import type { ProviderSettings } from './provider-config.js';
import type { ModelProvider } from './provider.js';

/** One adapter per configured provider, by id. */
export function createProviders(
  settings: readonly ProviderSettings[],
  dependencies: ProviderDependencies = {},
): Map<string, ModelProvider> {
  return new Map(settings.map((entry) => [entry.id, createProvider(entry, dependencies)]));
}

export function createProvider(
  settings: ProviderSettings,
  dependencies: ProviderDependencies = {},
): ModelProvider {
  switch (settings.kind) {
    case 'openai':
      return new OpenAiCompatibleProvider(settings, dependencies);
    case 'anthropic':
      return new AnthropicProvider(settings, dependencies);
    case 'local':
      return new LocalProvider(settings);
  }
}
