import { EventEmitter } from 'node:events';
import type { ConfirmChannel, Options } from 'amqplib';
import { ConfirmPublisher } from './confirm-publisher.js';

type Confirm = (error: unknown) => void;

/** Just enough of a confirm channel: records publishes and lets the test play the broker. */
class FakeChannel extends EventEmitter {
  sent: { routingKey: string; options: Options.Publish; confirm: Confirm }[] = [];
  throwOnPublish?: Error;
  publish(
    _exchange: string,
    routingKey: string,
    _content: Buffer,
    options: Options.Publish,
    confirm: Confirm,
  ): boolean {
    if (this.throwOnPublish) throw this.throwOnPublish;
    this.sent.push({ routingKey, options, confirm });
    return true;
  }
  returnMessage(messageId: string) {
    this.emit('return', { properties: { messageId, headers: {} }, fields: {}, content: Buffer.alloc(0) });
  }
}

describe('ConfirmPublisher', () => {
  let channel: FakeChannel;
  let publisher: ConfirmPublisher;
  const send = (id: string) => publisher.send('ex', 'a.b', Buffer.from('{}'), { messageId: id });

  beforeEach(() => {
    channel = new FakeChannel();
    publisher = new ConfirmPublisher(1_000);
    publisher.attach(channel as unknown as ConfirmChannel);
  });

  it('When the broker acks, then send resolves', async () => {
    const sending = send('m1');
    channel.sent[0].confirm(null);
    await expect(sending).resolves.toBeUndefined();
  });

  it('When the broker returns the message before acking it, then send rejects as unroutable', async () => {
    const sending = send('m1');
    channel.returnMessage('m1');
    channel.sent[0].confirm(null);
    await expect(sending).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'unroutable' } });
  });

  it('When another message was returned, then this one still resolves', async () => {
    const first = send('m1');
    const second = send('m2');
    channel.returnMessage('m2');
    channel.sent[0].confirm(null);
    channel.sent[1].confirm(null);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toMatchObject({ details: { reason: 'unroutable' } });
  });

  it('When the broker nacks, then send rejects as nacked', async () => {
    const sending = send('m1');
    channel.sent[0].confirm(new Error('message nacked'));
    await expect(sending).rejects.toMatchObject({ details: { reason: 'nacked' } });
  });

  it('When the channel closes before the confirm, then send rejects as channel_closed', async () => {
    const sending = send('m1');
    channel.sent[0].confirm(new Error('channel closed'));
    await expect(sending).rejects.toMatchObject({ details: { reason: 'channel_closed' } });
  });

  it('When no channel is attached or publish throws, then send rejects as not_connected without buffering', async () => {
    channel.throwOnPublish = new Error('Channel closed');
    await expect(send('m1')).rejects.toMatchObject({ details: { reason: 'not_connected' } });
    publisher.detach();
    await expect(send('m2')).rejects.toMatchObject({ details: { reason: 'not_connected' } });
  });

  it('When the broker never answers, then send rejects after the timeout', async () => {
    publisher = new ConfirmPublisher(20);
    publisher.attach(channel as unknown as ConfirmChannel);
    await expect(send('m1')).rejects.toMatchObject({ details: { reason: 'timeout' } });
  });

  it('When two publishes share a message id, then the second is sent only after the first is confirmed', async () => {
    const first = send('same');
    const second = send('same');
    await Promise.resolve();
    expect(channel.sent).toHaveLength(1);
    channel.returnMessage('same');
    channel.sent[0].confirm(null);
    await expect(first).rejects.toMatchObject({ details: { reason: 'unroutable' } });
    await new Promise((r) => setImmediate(r));
    expect(channel.sent).toHaveLength(2);
    channel.sent[1].confirm(null);
    await expect(second).resolves.toBeUndefined();
  });
});
