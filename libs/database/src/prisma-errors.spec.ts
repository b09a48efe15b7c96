import { isRecordNotFound, isUniqueViolation } from './prisma-errors.js';

// Shapes as Prisma 7 with @prisma/adapter-pg reports them (captured from a real violation).
const adapterViolation = {
  code: 'P2002',
  meta: {
    modelName: 'User',
    driverAdapterError: {
      cause: { kind: 'UniqueConstraintViolation', constraint: { index: 'users_email_key' }, table: 'users' },
    },
  },
};

describe('isUniqueViolation', () => {
  it('When the adapter reports the index name, then the column is recognised from it', () => {
    expect(isUniqueViolation(adapterViolation)).toBe(true);
    expect(isUniqueViolation(adapterViolation, 'email')).toBe(true);
    expect(isUniqueViolation(adapterViolation, 'name')).toBe(false);
  });

  it('When the error lists target fields, then the column must be among them', () => {
    expect(isUniqueViolation({ code: 'P2002', meta: { target: ['email'] } }, 'email')).toBe(true);
    expect(isUniqueViolation({ code: 'P2002', meta: { target: ['slug'] } }, 'email')).toBe(false);
  });

  it('When the error is something else, then it is not a unique violation', () => {
    expect(isUniqueViolation(new Error('P2002'))).toBe(false);
    expect(isUniqueViolation({ code: 'P2025' })).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
    expect(isRecordNotFound({ code: 'P2025' })).toBe(true);
  });
});
