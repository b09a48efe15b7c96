import { shouldUseColour } from './colours.js';
import { createLogLabeller, prettyJsonLine } from './log-labeller.js';

const JSON_LINE =
  '{"timestamp":"2026-03-04T12:04:05.123Z","level":"warn","message":"slow query","service":"user-service","request_id":"r-1","trace_id":"abc","duration_ms":1200}';

describe('createLogLabeller', () => {
  it('When colour and pretty are off, then lines are printed as-is after a label padded to the longest name', () => {
    const labeller = createLogLabeller({ names: ['stack', 'user-service'], colour: false, pretty: false });

    expect(labeller.format('stack', 'hello')).toBe('stack        | hello');
    expect(labeller.format('user-service', JSON_LINE)).toBe(`user-service | ${JSON_LINE}`);
  });

  it('When colour is on, then each name gets its own colour and the reset follows the padding', () => {
    const labeller = createLogLabeller({ names: ['a', 'bb'], colour: true, pretty: false });

    expect(labeller.format('a', 'x')).toBe('\u001b[36ma \u001b[0m \u001b[2m|\u001b[0m x');
    expect(labeller.format('bb', 'x')).toBe('\u001b[35mbb\u001b[0m \u001b[2m|\u001b[0m x');
  });

  it('When pretty is on, then JSON log lines become "time level message key=value" and other lines stay as they are', () => {
    const labeller = createLogLabeller({ names: ['user-service'], colour: false, pretty: true });

    expect(labeller.format('user-service', JSON_LINE)).toBe(
      'user-service | 12:04:05.123 warn  slow query request_id=r-1 duration_ms=1200',
    );
    expect(labeller.format('user-service', 'plain text {not json')).toBe(
      'user-service | plain text {not json',
    );
  });
});

describe('prettyJsonLine', () => {
  it('When the line is JSON without a message, then it is not a log record', () => {
    expect(prettyJsonLine('{"a":1}')).toBeUndefined();
    expect(prettyJsonLine('[1,2]')).toBeUndefined();
  });

  it('When meta values are objects, then they are printed as compact JSON', () => {
    expect(prettyJsonLine('{"level":"error","message":"failed","err":{"code":"E1"}}')).toBe(
      'error failed err={"code":"E1"}',
    );
  });
});

describe('shouldUseColour', () => {
  it('When stdout is a terminal, then colour is on unless NO_COLOR is set', () => {
    expect(shouldUseColour({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('When stdout is a pipe, then colour is off unless FORCE_COLOR asks for it', () => {
    expect(shouldUseColour({ isTTY: false }, {})).toBe(false);
    expect(shouldUseColour({}, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldUseColour({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });
});
