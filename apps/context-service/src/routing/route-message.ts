import { AppError } from '@te/platform';
import type { MessageMode } from '../domain/conversation.js';
import type { CatalogueModel, ModelCatalogue } from './model-catalogue.js';
import type { ImageInput, RoutingRule } from './routing-rules.js';

export interface RouteInput {
  /** The message refers to screenshots that can be shown (processed ones). */
  hasImages: boolean;
  mode: MessageMode;
  /** The model the user asked for; empty lets the rules choose. */
  requestedModel: string;
}

export interface RouteDecision {
  /** The rule that decided ("requested" when the user named the model). */
  rule: string;
  model: CatalogueModel;
  images: ImageInput;
}

/**
 * Routing as data: the first rule whose conditions hold and whose model the catalogue lists (with
 * vision when the rule requires it) decides. A model the user named wins when the catalogue lists it;
 * otherwise VALIDATION_FAILED naming `model`. Images go in as images only to a vision model. Pure.
 */
export function routeMessage(
  input: RouteInput,
  rules: RoutingRule[],
  catalogue: ModelCatalogue,
): RouteDecision {
  if (input.requestedModel) {
    const model = catalogue.get(input.requestedModel);
    if (!model) throw unknownModel();
    return { rule: 'requested', model, images: input.hasImages && model.vision ? 'image' : 'ocr_text' };
  }
  for (const rule of rules) {
    if (!matches(rule, input)) continue;
    const model = catalogue.get(rule.model);
    if (!model || (rule.requires_vision && !model.vision)) continue;
    const images = rule.images === 'image' && model.vision ? 'image' : 'ocr_text';
    return { rule: rule.name, model, images };
  }
  throw new AppError('UNAVAILABLE', 'No model of the routing rules is available', {
    details: { rules: rules.map((rule) => rule.model) },
  });
}

function matches(rule: RoutingRule, input: RouteInput): boolean {
  const { when } = rule;
  if (when.has_images !== undefined && when.has_images !== input.hasImages) return false;
  if (when.mode !== undefined && when.mode !== input.mode) return false;
  return true;
}

export function unknownModel(): AppError {
  return new AppError('VALIDATION_FAILED', 'Invalid message', {
    fields: [{ field: 'model', message: 'is not a model you may use' }],
  });
}
