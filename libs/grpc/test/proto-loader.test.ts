import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listProtoFiles, loadProtoDefinition, loadProtos, resolveProtoRoot } from '../src/index.js';

const workspaceProto = path.resolve(__dirname, '../../../proto');

describe('proto loading', () => {
  it('When run from src/ or dist/, then the workspace proto/ folder is found', () => {
    for (const from of [path.resolve(__dirname, '../src'), path.resolve(__dirname, '../dist')]) {
      expect(resolveProtoRoot({}, from)).toBe(workspaceProto);
    }
  });

  it('When PROTO_ROOT is set, then it wins; when it or any proto/ is missing, then the error says what to set', () => {
    const image = mkdtempSync(path.join(os.tmpdir(), 'te-proto-'));
    try {
      mkdirSync(path.join(image, 'te'));
      expect(resolveProtoRoot({ PROTO_ROOT: image }, __dirname)).toBe(image);
      expect(() => resolveProtoRoot({ PROTO_ROOT: path.join(image, 'missing') })).toThrow(
        /PROTO_ROOT=.*not a directory/,
      );
      expect(() => resolveProtoRoot({}, image)).toThrow(/set PROTO_ROOT/);
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });

  it('When the protos are loaded, then every contract is present once, typed and cached', () => {
    expect(listProtoFiles(workspaceProto)).toContain('te/user/v1/user.proto');

    const protos = loadProtos();

    expect(loadProtos()).toBe(protos);
    expect(protos.te.user.v1.UserService.service.Register.path).toBe('/te.user.v1.UserService/Register');
    expect(Object.keys(loadProtoDefinition())).toContain('te.user.v1.UserService');
    // The loader options the generated types assume: camelCase fields, defaults filled in.
    const decoded = protos.te.user.v1.UserService.service.Register.responseDeserialize(Buffer.alloc(0));
    expect(decoded).toEqual({ user: null, accessToken: null, session: null });
    const user = protos.te.user.v1.UserService.service.GetUser.responseDeserialize(
      protos.te.user.v1.UserService.service.GetUser.responseSerialize({ user: { createdAt: 'now' } }),
    );
    expect(user.user).toEqual({
      id: '',
      email: '',
      name: '',
      roles: [],
      createdAt: 'now',
      locale: '',
      preferencesJson: '',
    });
  });
});
