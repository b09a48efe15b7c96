import { AppError } from '@te/platform';
import { catalogueOf, type CatalogueModel } from './model-catalogue.js';
import { routeMessage, type RouteInput } from './route-message.js';
import { defaultRoutingRules, routingRulesSchema } from './routing-rules.js';

const model = (name: string, vision = false): CatalogueModel => ({
  name,
  vision,
  streaming: false,
  contextWindow: 8_000,
  maxOutputTokens: 1_000,
});
const rules = defaultRoutingRules({ chat: 'explainer', vision: 'explainer-vision' });
const withVision = catalogueOf([model('explainer'), model('explainer-vision', true), model('big', true)]);
const chatOnly = catalogueOf([model('explainer'), model('explainer-vision', false)]);
const input = (overrides: Partial<RouteInput>): RouteInput => ({
  hasImages: false,
  mode: 'sync',
  requestedModel: '',
  ...overrides,
});

describe('routeMessage', () => {
  it.each([
    ['text only', input({}), withVision, 'text', 'explainer', 'ocr_text'],
    [
      'screenshots, vision model listed',
      input({ hasImages: true }),
      withVision,
      'screenshots-to-vision',
      'explainer-vision',
      'image',
    ],
    [
      'screenshots, vision alias without vision',
      input({ hasImages: true }),
      chatOnly,
      'screenshots-as-ocr-text',
      'explainer',
      'ocr_text',
    ],
    [
      'requested vision model with screenshots',
      input({ hasImages: true, requestedModel: 'big' }),
      withVision,
      'requested',
      'big',
      'image',
    ],
    [
      'requested chat model with screenshots',
      input({ hasImages: true, requestedModel: 'explainer' }),
      withVision,
      'requested',
      'explainer',
      'ocr_text',
    ],
  ])(
    'When %s, then rule %s picks %s with images as %s',
    (_case, routeInput, catalogue, rule, name, images) => {
      const decision = routeMessage(routeInput, rules, catalogue);
      expect({ rule: decision.rule, model: decision.model.name, images: decision.images }).toEqual({
        rule,
        model: name,
        images,
      });
    },
  );

  it('When the user names a model the catalogue does not list, then VALIDATION_FAILED names model', () => {
    expect.assertions(2);
    try {
      routeMessage(input({ requestedModel: 'gpt-9' }), rules, withVision);
    } catch (error) {
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect((error as AppError).fields).toEqual([{ field: 'model', message: 'is not a model you may use' }]);
    }
  });

  it('When no rule’s model is in the catalogue, then UNAVAILABLE', () => {
    expect(() => routeMessage(input({}), rules, catalogueOf([model('other')]))).toThrow(
      expect.objectContaining({ code: 'UNAVAILABLE' }),
    );
  });

  it('When a rule matches on mode, then only messages of that mode take it', () => {
    const byMode = routingRulesSchema.parse([
      { name: 'async-cheap', when: { mode: 'async' }, model: 'explainer' },
      { name: 'rest', model: 'big' },
    ]);
    expect(routeMessage(input({ mode: 'async' }), byMode, withVision).rule).toBe('async-cheap');
    expect(routeMessage(input({ mode: 'sync' }), byMode, withVision).rule).toBe('rest');
  });

  it('When rules are invalid, then every bad field is named', () => {
    const result = routingRulesSchema.safeParse([
      { name: 'x', when: { has_images: 'yes' }, model: 'bad model!', images: 'pixels' },
    ]);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      '0.images',
      '0.model',
      '0.when.has_images',
    ]);
  });
});
