// The providers module's public surface: the interface, configuration, adapters and their errors.
export * from './provider.js';
export * from './provider-config.js';
export * from './provider-error.js';
export * from './create-providers.js';
export { OpenAiCompatibleProvider } from './openai.provider.js';
export { AnthropicProvider, ANTHROPIC_DEFAULT_MAX_TOKENS, ANTHROPIC_VERSION } from './anthropic.provider.js';
export { LocalProvider } from './local.provider.js';
export { LOCAL_PREFACE } from './extractive-answer.js';
export { estimateInputTokens, estimateTextTokens } from './token-estimate.js';
export { SseParser, readSse, type SseEvent } from './sse.js';
