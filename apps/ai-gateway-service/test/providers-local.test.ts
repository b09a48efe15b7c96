import { LOCAL_PREFACE } from '../src/providers/extractive-answer.js';
import { LocalProvider } from '../src/providers/local.provider.js';
import type { InferenceRequest } from '../src/providers/provider.js';
import { drain } from './support/loopback-server.js';

const OCR_TEXT = [
  'Settings > Storage',
  'Error 28: No space left on device. The backup could not be written.',
  'Free up at least 2 GB of disk space and try the backup again.',
  'Last sync: yesterday at 14:02',
  'Theme: dark',
].join('\n');

const request = (question: string, overrides: Partial<InferenceRequest> = {}): InferenceRequest => ({
  model: 'extractive-v1',
  maxOutputTokens: 0,
  messages: [
    {
      role: 'system',
      content: [{ type: 'text', text: `Text read from the user's screenshot:\n${OCR_TEXT}` }],
    },
    { role: 'user', content: [{ type: 'text', text: question }] },
  ],
  ...overrides,
});

describe('Local provider', () => {
  const provider = new LocalProvider();

  it('When asked about the screen, then it quotes the lines sharing the question words, and says what it is', async () => {
    const result = await provider.complete(request('Why could the backup not be written to the disk?'));

    expect(result.text.startsWith(LOCAL_PREFACE)).toBe(true);
    expect(result.text).toContain('built-in offline model');
    expect(result.text).toContain('"The backup could not be written."');
    expect(result.text).toContain('"Free up at least 2 GB of disk space and try the backup again."');
    expect(result.text).not.toContain('Theme: dark');
    expect(result.text).not.toContain('Error 28');
    expect(result).toMatchObject({ finishReason: 'stop', providerModel: 'extractive-v1' });
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBe(Math.ceil(result.text.length / 4));
  });

  it('When the same question is asked twice, then the answer is identical', async () => {
    const first = await provider.complete(request('When did the last sync happen?'));
    const second = await provider.complete(request('When did the last sync happen?'));

    expect(second.text).toBe(first.text);
    expect(first.text).toContain('"Last sync: yesterday at 14:02"');
  });

  it('When the question and the screen text share the user turn, then the last paragraph is the question', async () => {
    const result = await provider.complete({
      model: 'extractive-v1',
      maxOutputTokens: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: `${OCR_TEXT}\n\nWhich theme is on?` }] }],
    });

    expect(result.text).toContain('"Theme: dark"');
    expect(result.text).not.toContain('Error 28');
  });

  it('When it streams, then the answer comes in word chunks that join to the complete answer', async () => {
    const { events, error } = await drain(provider.stream(request('What should I free up?')));
    const complete = await provider.complete(request('What should I free up?'));

    expect(error).toBeUndefined();
    const deltas = events.filter((event) => event.type === 'delta').map((event) => event.text);
    expect(deltas.length).toBeGreaterThan(20);
    expect(deltas.every((text) => /^\S+\s*$/.test(text))).toBe(true);
    expect(deltas.join('')).toBe(complete.text);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: complete.usage });
  });

  it('When there is no screen text, then it says it cannot answer rather than inventing one', async () => {
    const result = await provider.complete({
      model: 'extractive-v1',
      maxOutputTokens: 0,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', mediaType: 'image/png', data: Buffer.from([1, 2, 3]) },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });

    expect(result.text).toContain('I cannot see images');
    expect(result.text).toContain('no screen text for me to quote');
  });

  it('When nothing matches, then it says so and shows where the screen text begins', async () => {
    const result = await provider.complete(request('Quantum chromodynamics?'));

    expect(result.text).toContain('No line of the screen text shares a word with your question');
    expect(result.text).toContain('It begins: "Text read from the user\'s screenshot:"');
  });

  it('When max_output_tokens is small, then the answer is cut at a word and finish_reason is length', async () => {
    const result = await provider.complete(
      request('Why could the backup not be written?', { maxOutputTokens: 10 }),
    );

    expect(result.finishReason).toBe('length');
    expect(result.usage.outputTokens).toBeLessThanOrEqual(10);
    expect(LOCAL_PREFACE.startsWith(result.text)).toBe(true);
  });

  it('When the caller aborts mid-stream, then the stream stops with a non-retryable cancellation', async () => {
    const controller = new AbortController();
    const received: string[] = [];
    let failure: unknown;
    try {
      for await (const event of provider.stream(request('Why could the backup not be written?'), {
        signal: controller.signal,
      })) {
        if (event.type === 'delta') received.push(event.text);
        if (received.length === 3) controller.abort();
      }
    } catch (error) {
      failure = error;
    }

    expect(received).toHaveLength(3);
    expect(failure).toMatchObject({ code: 'UNAVAILABLE', reason: 'cancelled', retryable: false });
  });
});
