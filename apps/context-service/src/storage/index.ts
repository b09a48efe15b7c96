export * from './object-storage.js';
export * from './object-key.js';
export * from './content-addressed.js';
export * from './create-object-storage.js';
export * from './object-storage.config.js';
export * from './filesystem.object-storage.js';
export * from './s3.object-storage.js';
export { verifySignedUrl, type SignedUrlVerification } from './signed-url.js';
export * from './signed-object-route.js';
