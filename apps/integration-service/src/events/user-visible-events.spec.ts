import { createEvent } from '@te/events';
import { isUserVisibleEventType, ownerOf } from './user-visible-events.js';

const userId = '0b6f8f0e-7a0c-4d55-9d0e-3c1c4e5b6a70';

describe('user-visible events', () => {
  it('When an event is one users may see and names its owner, then ownerOf gives data.user_id', () => {
    const event = createEvent({ type: 'context.message.created', source: 'spec', data: { user_id: userId } });
    expect(ownerOf(event)).toBe(userId);
  });

  it('When an event is the platform’s own (work items, security, registry), then it has no visible owner', () => {
    for (const type of [
      'context.reply.requested',
      'session.revoked',
      'ai.registry.changed',
      'user.deleted',
    ]) {
      expect(isUserVisibleEventType(type)).toBe(false);
      expect(ownerOf(createEvent({ type, source: 'spec', data: { user_id: userId } }))).toBeUndefined();
    }
  });

  it('When a visible event carries no usable user_id, then it has no owner', () => {
    for (const data of [{}, { user_id: '' }, { user_id: 42 }, null]) {
      expect(ownerOf(createEvent({ type: 'ai.inference.completed', source: 'spec', data }))).toBeUndefined();
    }
  });
});
