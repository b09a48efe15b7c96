import { AppError } from '@te/platform';
import { fakeResponse } from '../../test/support/fake-http.js';
import { sendData, sendError } from './envelope.js';

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('envelope', () => {
  test('When data is sent, then it is success with the data, no error and the request id', () => {
    const response = fakeResponse({ requestId: 'req-42' });

    sendData(response.res, 201, { user: { id: 'u1' } });

    expect(response.statusCode).toBe(201);
    expect(response.body).toEqual({
      success: true,
      data: { user: { id: 'u1' } },
      error: null,
      metadata: { timestamp: expect.stringMatching(ISO_TIMESTAMP), request_id: 'req-42' },
    });
  });

  test('When an error without fields is sent, then data is null and the error has no fields member', () => {
    const response = fakeResponse({ requestId: 'req-43' });

    sendError(response.res, new AppError('NOT_FOUND', 'User not found'));

    expect(response.statusCode).toBe(404);
    expect(response.body).toEqual({
      success: false,
      data: null,
      error: { code: 'NOT_FOUND', message: 'User not found' },
      metadata: { timestamp: expect.stringMatching(ISO_TIMESTAMP), request_id: 'req-43' },
    });
  });

  test('When an error with fields is sent, then every field is listed', () => {
    const response = fakeResponse({ requestId: 'req-44' });
    const fields = [
      { field: 'email', message: 'must be a valid email address' },
      { field: 'password', message: 'must be at least 8 characters' },
    ];

    sendError(response.res, new AppError('VALIDATION_FAILED', 'Invalid', { fields }));

    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', fields } });
  });

  test('When details are attached to an error, then they never reach the client', () => {
    const response = fakeResponse({ requestId: 'req-45' });

    sendError(
      response.res,
      new AppError('UNAVAILABLE', 'Service unavailable', { details: { host: '10.0.0.7' } }),
    );

    expect(JSON.stringify(response.body)).not.toContain('10.0.0.7');
  });
});
