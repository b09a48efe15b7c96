import { SseParser, readSse, type SseEvent } from '../src/providers/sse.js';

// Every trap of the format in one stream: BOM, CRLF / CR / LF endings, comments, multi-line data,
// named events, ids that persist, "data:" with and without the optional space, a field without a
// colon, multi-byte UTF-8 (2, 3 and 4 bytes), an empty data line, and OpenAI's [DONE].
const STREAM =
  '\uFEFF: comment first\r\n' +
  'event: message_start\r\n' +
  'data: {"type":"message_start"}\r\n\r\n' +
  'id: 7\n' +
  'data: línea uno\n' +
  'data:line two, no space\n' +
  'data:  two spaces kept one\n\n' +
  ': keep-alive\r' +
  'data: 日本語 and 😀\r\r' +
  'data\n\n' +
  'event: ping\ndata: {}\n\n' +
  'retry: 1000\nunknown: field\ndata: [DONE]\n\n' +
  'data: never terminated';

const EXPECTED: SseEvent[] = [
  { event: 'message_start', data: '{"type":"message_start"}', id: '' },
  { event: 'message', data: 'línea uno\nline two, no space\n two spaces kept one', id: '7' },
  { event: 'message', data: '日本語 and 😀', id: '7' },
  { event: 'message', data: '', id: '7' },
  { event: 'ping', data: '{}', id: '7' },
  { event: 'message', data: '[DONE]', id: '7' },
];

function parseChunks(chunks: Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

describe('SSE parser', () => {
  const bytes = Buffer.from(STREAM, 'utf8');

  it('When the whole stream arrives at once, then every event is parsed per the standard', () => {
    expect(parseChunks([bytes])).toEqual(EXPECTED);
  });

  it('When the stream arrives one byte at a time, then the events are the same', () => {
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    expect(parseChunks(chunks)).toEqual(EXPECTED);
  });

  it('When the stream is cut in two at every possible byte, then the events are the same each time', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(EXPECTED);
    }
  });

  it('When events complete, then push returns them at once (incrementally, not at the end)', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\n')).toEqual([]);
    expect(parser.push('\ndata: b')).toEqual([{ event: 'message', data: 'a', id: '' }]);
    expect(parser.push('\r')).toEqual([]);
    expect(parser.push('\r')).toEqual([{ event: 'message', data: 'b', id: '' }]);
  });

  it('When a CR ends one chunk and LF starts the next, then they count as one line ending', () => {
    const parser = new SseParser();
    expect([...parser.push('data: x\r'), ...parser.push('\ndata: y\r\n\r\n')]).toEqual([
      { event: 'message', data: 'x\ny', id: '' },
    ]);
  });

  it('When a line grows past the limit, then the parser fails instead of buffering without bound', () => {
    const parser = new SseParser({ maxLineLength: 16 });
    expect(() => parser.push('data: ' + 'x'.repeat(20))).toThrow(/longer than 16/);
  });

  it('When read from an async byte stream, then readSse yields the same events', async () => {
    async function* source() {
      for (let index = 0; index < bytes.length; index += 3) yield bytes.subarray(index, index + 3);
    }
    const events: SseEvent[] = [];
    for await (const event of readSse(source())) events.push(event);
    expect(events).toEqual(EXPECTED);
  });
});
