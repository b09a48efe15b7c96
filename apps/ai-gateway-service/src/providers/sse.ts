/**
 * An incremental parser for server-sent events, as the WHATWG HTML standard defines the
 * text/event-stream format (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream).
 * Bytes may be split anywhere: in the middle of a line, of a UTF-8 character, or between the CR and
 * LF of a CRLF. Lines end with CRLF, LF or CR; lines starting with ":" are comments; several `data:`
 * lines form one event joined with "\n"; a blank line dispatches. An event not terminated by a blank
 * line when the stream ends is discarded, as the standard says. Sentinels such as OpenAI's `[DONE]`
 * are ordinary data here; the adapters interpret them.
 */

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream (it persists across events), "" when none. */
  id: string;
}

export interface SseParserOptions {
  /** A line longer than this (in UTF-16 code units) fails the stream instead of growing memory. */
  maxLineLength?: number;
}

export class SseLineTooLongError extends Error {
  constructor(limit: number) {
    super(`An event-stream line is longer than ${limit} characters`);
    this.name = 'SseLineTooLongError';
  }
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLineLength: number;
  private pending = '';
  // The previous chunk ended with CR: a LF at the start of the next one belongs to the same CRLF.
  private skipLeadingLf = false;
  private eventType = '';
  private data: string[] = [];
  private lastEventId = '';

  constructor(options: SseParserOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? 4 * 1024 * 1024;
  }

  /** Feeds bytes (or already-decoded text); returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    this.feed(text, out);
    return out;
  }

  /** The stream ended: flushes the decoder; an unterminated event is dropped. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    this.feed(this.decoder.decode(), out);
    this.pending = '';
    this.data = [];
    this.eventType = '';
    return out;
  }

  private feed(text: string, out: SseEvent[]): void {
    let start = 0;
    if (this.skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) start = 1;
      this.skipLeadingLf = false;
    }
    for (let index = start; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code !== 10 && code !== 13) continue;
      const line = this.pending + text.slice(start, index);
      this.pending = '';
      this.processLine(line, out);
      if (code === 13) {
        if (index + 1 === text.length) this.skipLeadingLf = true;
        else if (text.charCodeAt(index + 1) === 10) index++;
      }
      start = index + 1;
    }
    this.pending += text.slice(start);
    if (this.pending.length > this.maxLineLength) throw new SseLineTooLongError(this.maxLineLength);
  }

  private processLine(line: string, out: SseEvent[]): void {
    if (line === '') return this.dispatch(out);
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // `retry:` only matters to a reconnecting EventSource; unknown fields are ignored by the standard.
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length > 0) {
      out.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId });
    }
    this.data = [];
    this.eventType = '';
  }
}

/** Events from a byte stream (a fetch Response body), as they complete. */
export async function* readSse(
  body: AsyncIterable<Uint8Array>,
  options: SseParserOptions = {},
): AsyncGenerator<SseEvent> {
  const parser = new SseParser(options);
  for await (const chunk of body) yield* parser.push(chunk);
  yield* parser.end();
}
