/**
 * The Slack message for a platform event: a readable `text` (also the notification's fallback) and
 * two simple blocks. Built from ids, counts, model names and codes only — never user-written content
 * (events carry none: docs/events.md; `user.registered`'s name and email are left out on purpose).
 * Every value is checked against its expected shape and escaped for mrkdwn (&, <, >).
 */
export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

type Data = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[A-Za-z0-9._:@/-]{1,200}$/;

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A value shown as code when it has the expected shape; a placeholder otherwise. */
function code(value: unknown, shape: RegExp = TOKEN): string {
  return typeof value === 'string' && shape.test(value) ? `\`${escape(value)}\`` : '(unknown)';
}

function count(value: unknown): string {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : '?';
}

const TEXTS: Record<string, (data: Data) => string> = {
  'user.registered': () => 'Your TE-explico account was created.',
  'context.session.created': (d) => `A conversation was started (session ${code(d['session_id'], UUID)}).`,
  'context.session.deleted': (d) =>
    `A conversation was deleted (session ${code(d['session_id'], UUID)}, ${
      d['reason'] === 'retention' ? 'it was idle past the retention period' : 'on your request'
    }).`,
  'context.message.created': (d) =>
    d['role'] === 'assistant'
      ? `A reply was completed in session ${code(d['session_id'], UUID)} by ${code(d['model'])} (${count(d['content_length'])} characters).`
      : `A message was posted in session ${code(d['session_id'], UUID)} (${count(d['content_length'])} characters).`,
  'context.attachment.processed': (d) =>
    `A screenshot in session ${code(d['session_id'], UUID)} was ${d['status'] === 'failed' ? 'not readable' : 'processed'}.`,
  'ai.inference.completed': (d) =>
    `An inference completed on ${code(d['model'])}: ${count(d['input_tokens'])} input and ${count(d['output_tokens'])} output tokens, ${
      typeof d['cost_usd'] === 'string' && /^\d{1,12}(\.\d{1,6})?$/.test(d['cost_usd'])
        ? `$${d['cost_usd']}`
        : 'cost unknown'
    }.`,
  'ai.inference.failed': (d) => `An inference on ${code(d['model'])} failed: ${code(d['error_code'])}.`,
  'connector.test': () => 'Test message from TE-explico: this Slack connector works.',
};

export function slackMessage(event: { type: string; timestamp: string; data: unknown }): SlackMessage {
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Data;
  const text = TEXTS[event.type]?.(data) ?? `Event ${code(event.type)}.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `TE-explico · ${code(event.type)} · ${code(event.timestamp)}` }],
      },
    ],
  };
}
