import { hello } from '@te/platform';
describe('hello', () => { it('greets via lib source', () => { expect(hello('y')).toBe('hello y'); }); });
