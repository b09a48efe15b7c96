export * from './sniff-image-type.js';
export * from './normalise-screenshot.js';
