import { hello } from './index.js';
describe('hello', () => { it('greets', () => { expect(hello('x')).toBe('hello x'); }); });
