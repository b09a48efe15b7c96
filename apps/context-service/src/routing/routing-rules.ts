import { z } from 'zod';

/** How a rule's screenshots go to the model: as images (vision models only) or as their OCR text. */
export const IMAGE_INPUTS = ['image', 'ocr_text'] as const;
export type ImageInput = (typeof IMAGE_INPUTS)[number];

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:@/-]+$/, 'must be a model name (letters, digits and . _ : @ / -)');

/**
 * One routing rule (consulted only when the user named no model: a named model the catalogue lists wins): when every condition in `when` holds (an absent condition matches anything),
 * `model` answers and `images` says how screenshots go in. `requires_vision`: the rule applies only
 * when the catalogue says `model` can see images (so a vision rule falls through to the next one
 * when no vision model is deployed).
 */
export const routingRuleSchema = z
  .object({
    name: z.string().min(1).max(100),
    when: z
      .object({
        has_images: z.boolean().optional(),
        mode: z.enum(['sync', 'stream', 'async']).optional(),
      })
      .strict()
      .default({}),
    model: name,
    images: z.enum(IMAGE_INPUTS).default('ocr_text'),
    requires_vision: z.boolean().default(false),
  })
  .strict();

export type RoutingRule = z.infer<typeof routingRuleSchema>;

/** The rules, first match wins; the last rule must match everything so every message is routed. */
export const routingRulesSchema = z
  .array(routingRuleSchema)
  .min(1)
  .max(50)
  .refine((rules) => Object.keys(rules.at(-1)?.when ?? {}).length === 0, {
    message: 'the last rule must have an empty "when" (a catch-all)',
  });

/** Model aliases the default rules use (ROUTING_VISION_MODEL, ROUTING_CHAT_MODEL). */
export interface DefaultModels {
  vision: string;
  chat: string;
}

/**
 * Screenshots go to a vision model as images when the catalogue has one; otherwise (and for text)
 * the chat model answers, with the screenshots' OCR text as context.
 */
export function defaultRoutingRules(models: DefaultModels): RoutingRule[] {
  return [
    {
      name: 'screenshots-to-vision',
      when: { has_images: true },
      model: models.vision,
      images: 'image',
      requires_vision: true,
    },
    {
      name: 'screenshots-as-ocr-text',
      when: { has_images: true },
      model: models.chat,
      images: 'ocr_text',
      requires_vision: false,
    },
    { name: 'text', when: {}, model: models.chat, images: 'ocr_text', requires_vision: false },
  ];
}
