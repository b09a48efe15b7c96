import { OpenAiApiError } from '../http/openai-errors.js';
import { paramOf, parseChatRequest } from './chat-request.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const user = (content: unknown) => ({ role: 'user', content });

function refusal(body: unknown): OpenAiApiError {
  try {
    parseChatRequest(body);
  } catch (error) {
    return error as OpenAiApiError;
  }
  throw new Error('expected a refusal');
}

describe('parseChatRequest', () => {
  it('When system and developer messages lead, then one system message, and message positions map back to the body', () => {
    const chat = parseChatRequest({
      model: 'explainer',
      messages: [
        { role: 'system', content: 'A' },
        { role: 'developer', content: [{ type: 'text', text: 'B' }] },
        user('Q'),
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
        user('Q2'),
      ],
      max_tokens: 50,
    });

    expect(chat.messages).toEqual([
      { role: 'system', content: [{ text: 'A' }, { text: 'B' }] },
      { role: 'user', content: [{ text: 'Q' }] },
      { role: 'assistant', content: [{ text: 'No.' }] },
      { role: 'user', content: [{ text: 'Q2' }] },
    ]);
    expect(chat.messageIndex).toEqual([0, 2, 3, 4]);
    expect(chat).toMatchObject({ maxOutputTokens: 50, maxTokensParam: 'max_tokens', stream: false });
  });

  it('When an image data URL is given, then its bytes and media type (image/jpg read as image/jpeg)', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    const chat = parseChatRequest({
      model: 'm',
      messages: [
        user([
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
          { type: 'image_url', image_url: { url: `data:image/jpg;base64,${jpeg.toString('base64')}` } },
        ]),
      ],
    });

    const [png, jpg] = chat.messages[0].content!;
    expect(png.image).toEqual({ mediaType: 'image/png', data: PNG });
    expect(jpg.image).toEqual({ mediaType: 'image/jpeg', data: jpeg });
  });

  it.each([
    ['https://example.com/a.png', 'invalid_image_url'],
    ['file:///etc/passwd', 'invalid_image_url'],
    [`data:image/gif;base64,${PNG.toString('base64')}`, 'invalid_image_format'],
    [`data:image/jpeg;base64,${PNG.toString('base64')}`, 'invalid_image_format'],
    ['data:image/png;base64,not base64!', 'invalid_image_url'],
  ])('When the image URL is %s, then a 400 with code %s on the url member', (url, code) => {
    const error = refusal({ model: 'm', messages: [user([{ type: 'image_url', image_url: { url } }])] });

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', openAiCode: code });
    expect(error.param).toBe('messages[0].content[0].image_url.url');
  });

  it('When an image is in a system message, then 400 on its type', () => {
    const error = refusal({
      model: 'm',
      messages: [
        { role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] },
        user('q'),
      ],
    });

    expect(error.param).toBe('messages[0].content[0].type');
  });

  it('When stream_options.include_usage is set without stream, then no usage chunk is promised', () => {
    const chat = parseChatRequest({
      model: 'm',
      messages: [user('q')],
      stream_options: { include_usage: true },
    });

    expect(chat).toMatchObject({ stream: false, includeUsage: false });
  });

  it('When neutral values of unsupported features are sent, then they are accepted', () => {
    expect(() =>
      parseChatRequest({
        model: 'm',
        messages: [user('q')],
        n: 1,
        tools: [],
        tool_choice: 'none',
        stop: null,
        logprobs: false,
        response_format: { type: 'text' },
        modalities: ['text'],
      }),
    ).not.toThrow();
  });

  it('When max_tokens and max_completion_tokens differ, then 400', () => {
    expect(
      refusal({ model: 'm', messages: [user('q')], max_tokens: 5, max_completion_tokens: 6 }).param,
    ).toBe('max_tokens');
  });
});

describe('paramOf', () => {
  it('When given a zod path, then OpenAI’s member notation', () => {
    expect(paramOf(['messages', 0, 'content', 1, 'image_url', 'url'])).toBe(
      'messages[0].content[1].image_url.url',
    );
    expect(paramOf(['model'])).toBe('model');
  });
});
