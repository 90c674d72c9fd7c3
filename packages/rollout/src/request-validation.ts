/**
 * Checks a {@link RolloutRequest} once, at the engine's edge, so every engine
 * rejects the same bad input with the same message.
 */
import { MasaError, type RolloutRequest } from '@masa-rl/core';
import { resolveSamplingParams, type ResolvedSamplingParams } from './sampling.js';
import { validateStopConditions } from './sequence-tracker.js';

/** A request with defaults applied. */
export interface ValidatedRequest {
  request: RolloutRequest;
  n: number;
  sampling: ResolvedSamplingParams;
}

/**
 * Validates one request and applies defaults (`n` 1, temperature 1, topP 1,
 * topK off). Throws `ARGUMENT_INVALID` naming the request id and the field.
 */
export function validateRolloutRequest(request: RolloutRequest, options: { vocabSize?: number } = {}): ValidatedRequest {
  const where = `request ${JSON.stringify(String(request.id))}`;
  const fail = (field: string, message: string): never => {
    throw new MasaError('ARGUMENT_INVALID', `${where}: ${message}`, { details: { requestId: request.id, field } });
  };
  if (typeof request.id !== 'string' || request.id.length === 0) fail('id', 'id must be a non-empty string');
  const hasTokens = request.promptTokenIds !== undefined;
  const hasMessages = request.messages !== undefined;
  if (hasTokens === hasMessages) fail('promptTokenIds', 'set exactly one of promptTokenIds and messages');
  if (hasTokens) {
    const ids = request.promptTokenIds as readonly number[];
    if (!Array.isArray(ids) || ids.length === 0) fail('promptTokenIds', 'promptTokenIds must be a non-empty array of token ids');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || (options.vocabSize !== undefined && id >= options.vocabSize)) {
        fail('promptTokenIds', `promptTokenIds holds ${id}, not a token id in [0, ${options.vocabSize ?? '∞'})`);
      }
    }
  } else {
    const messages = request.messages as RolloutRequest['messages'] & object;
    if (!Array.isArray(messages) || messages.length === 0) fail('messages', 'messages must be a non-empty array');
    for (const [index, message] of messages.entries()) {
      if (!['system', 'user', 'assistant'].includes(message.role) || typeof message.content !== 'string') {
        fail('messages', `messages[${index}] must be {role: "system"|"user"|"assistant", content: string}`);
      }
    }
  }
  const n = request.n ?? 1;
  if (!Number.isInteger(n) || n < 1) fail('n', `n must be an integer ≥ 1, got ${n}`);
  if (request.seed !== undefined && !Number.isSafeInteger(request.seed)) fail('seed', `seed must be an integer, got ${request.seed}`);
  validateStopConditions(request, where);
  for (const id of request.stopTokenIds ?? []) {
    if (options.vocabSize !== undefined && id >= options.vocabSize) fail('stopTokenIds', `stopTokenIds holds ${id}, beyond the vocabulary (${options.vocabSize})`);
  }
  const sampling = resolveSamplingParams(
    {
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.topK === undefined ? {} : { topK: request.topK }),
      ...(request.topP === undefined ? {} : { topP: request.topP }),
    },
    where,
  );
  return { request, n, sampling };
}
