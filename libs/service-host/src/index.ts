export * from './service-config.js';
export * from './service-host.js';
