export * from './pg-adapter.js';
export * from './prisma-errors.js';
