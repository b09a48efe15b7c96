import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { ProtoGrpcType } from './generated/index.js';

/**
 * The options every proto is loaded with. scripts/generate-types.mjs passes the same ones to
 * proto-loader-gen-types; change both together or the generated types lie.
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/**
 * Where the contracts live: `PROTO_ROOT` when set (container images copy proto/ wherever they like),
 * else the nearest `proto/` folder above this file. The walk finds the workspace's proto/ from
 * libs/grpc/src (Jest), libs/grpc/dist (node) and node_modules/@te/grpc/dist (a symlink resolved by node).
 */
export function resolveProtoRoot(env: NodeJS.ProcessEnv = process.env, from: string = __dirname): string {
  const override = env['PROTO_ROOT'];
  if (override) {
    const root = path.resolve(override);
    if (!isDirectory(root)) throw new Error(`PROTO_ROOT=${override} is not a directory`);
    return root;
  }
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'proto');
    if (isDirectory(path.join(candidate, 'te'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`No proto/ folder (with proto/te/) found above ${from}; set PROTO_ROOT`);
}

/** Every .proto under root, as root-relative paths with forward slashes, sorted. */
export function listProtoFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.proto'))
    .map((file) => file.split(path.sep).join('/'))
    .sort();
}

let packageDefinition: PackageDefinition | undefined;
let protos: ProtoGrpcType | undefined;

/**
 * The proto-loader package definition of every proto (loaded once). Files are passed relative to the
 * root so descriptors carry "te/user/v1/user.proto", the name reflection clients expect.
 */
export function loadProtoDefinition(): PackageDefinition {
  if (!packageDefinition) {
    const root = resolveProtoRoot();
    const files = listProtoFiles(root);
    if (files.length === 0) throw new Error(`No .proto files under ${root}`);
    packageDefinition = loadSync(files, { ...PROTO_LOADER_OPTIONS, includeDirs: [root] });
  }
  return packageDefinition;
}

/** Typed service constructors and definitions of every package under proto/ (loaded once). */
export function loadProtos(): ProtoGrpcType {
  // The cast is the one place the generated types meet the dynamic loader: the generator and the
  // loader read the same files with the same options.
  protos ??= loadPackageDefinition(loadProtoDefinition()) as GrpcObject as unknown as ProtoGrpcType;
  return protos;
}

let reflectionDefinition: PackageDefinition | undefined;

/**
 * What reflection serves: our protos plus grpc.health.v1 (so grpcurl can call health too), loaded with
 * keepCase, because the descriptors proto-loader builds carry the loader's field names and reflection
 * clients must see the proto's `created_at`, not `createdAt`.
 */
export function loadReflectionDefinition(): PackageDefinition {
  if (!reflectionDefinition) {
    const root = resolveProtoRoot();
    const options = { ...PROTO_LOADER_OPTIONS, keepCase: true };
    // grpc-health-check ships proto/health/v1/health.proto; its import root is proto/.
    const healthRoot = path.resolve(path.dirname(healthProtoPath), '../..');
    const health = loadSync('health/v1/health.proto', { ...options, includeDirs: [healthRoot] });
    reflectionDefinition = {
      ...loadSync(listProtoFiles(root), { ...options, includeDirs: [root] }),
      ...health,
    };
  }
  return reflectionDefinition;
}

function isDirectory(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}
