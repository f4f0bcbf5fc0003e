import { CreateMessageResultSchema, ElicitResultSchema, ListRootsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { InputRequest } from '@switchboard/plugin-sdk';
import { digestOf } from '../auth/request-state';

/**
 * A handler's asks on the stateless 2026-07-28 wire (basic/patterns/mrtr). The gateway keeps no
 * memory between a request and its retry, so the handler runs again from the start on every
 * retry; this class answers its asks in order: the rounds answered before come from the sealed
 * request state, the open round from the retry's `inputResponses`, and an ask nobody answered
 * yet stops the handler (InputRequiredSignal) and becomes the InputRequiredResult.
 */

/** A round of asks the client answered: which questions (digest) and the answers by key. */
export interface AnsweredRound {
  digest: string;
  responses: Record<string, unknown>;
}

/** What the sealed requestState carries from one round trip to the next. */
export interface InputRoundsState {
  rounds: AnsweredRound[];
  /** The round the client was asked last (its digest), so its answers apply only to it. */
  asked: string;
  /** Answers already given to part of the asked round (the client answered some keys only). */
  partial: Record<string, unknown>;
}

/** What the handler still needs: the InputRequiredResult's `inputRequests`, and the state to seal. */
export interface InputRequired {
  inputRequests: Record<string, InputRequest>;
  state: InputRoundsState;
}

/** At most this many rounds per request, and this many asks per round (a runaway handler stops). */
export const MAX_INPUT_ROUNDS = 16;
export const MAX_INPUT_REQUESTS_PER_ROUND = 16;

/** Thrown from an ask nobody answered yet: unwinds the handler and carries what to ask. Never reaches a client as is. */
export class InputRequiredSignal extends Error {
  constructor(readonly required: InputRequired) {
    super('the client has not answered yet');
    this.name = 'InputRequiredSignal';
  }
}

/** A local error for an answer that does not fit its question; the endpoint answers -32602 naming the key. */
export class InvalidInputResponseError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`inputResponses.${key}: ${detail}`);
    this.name = 'InvalidInputResponseError';
  }
}

export class TooManyInputRoundsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooManyInputRoundsError';
  }
}

const RESPONSE_SCHEMAS = {
  'elicitation/create': ElicitResultSchema,
  'sampling/createMessage': CreateMessageResultSchema,
  'roots/list': ListRootsResultSchema,
} as const;

export class InputRounds {
  private next = 0;
  private readonly rounds: AnsweredRound[];

  /**
   * @param state the opened requestState, or undefined on a first call
   * @param responses the request's `inputResponses` (undefined when it has none)
   */
  constructor(
    private readonly state: InputRoundsState | undefined,
    private responses: Record<string, unknown> | undefined,
  ) {
    this.rounds = [...(state?.rounds ?? [])];
  }

  /** The answers to one ask, or InputRequiredSignal when the client must answer first. */
  ask(requests: Record<string, InputRequest>): Record<string, unknown> {
    const keys = Object.keys(requests);
    if (keys.length === 0) return {};
    if (keys.length > MAX_INPUT_REQUESTS_PER_ROUND) throw new TooManyInputRoundsError(`a handler may ask at most ${MAX_INPUT_REQUESTS_PER_ROUND} things at once`);
    const index = this.next++;
    const digest = digestOf(requests);
    const earlier = this.rounds[index];
    if (earlier?.digest === digest) return earlier.responses;
    // The handler asked something else this time (its arguments were the same, its code may not
    // be): what the client answered from here on no longer applies.
    this.rounds.length = Math.min(this.rounds.length, index);
    if (index >= MAX_INPUT_ROUNDS) throw new TooManyInputRoundsError(`a request may take at most ${MAX_INPUT_ROUNDS} rounds of client input`);

    const answers = this.answersFor(index, digest, requests);
    const missing = keys.filter((key) => !(key in answers));
    if (missing.length === 0) {
      this.rounds.push({ digest, responses: answers });
      return answers;
    }
    throw new InputRequiredSignal({
      inputRequests: Object.fromEntries(missing.map((key) => [key, requests[key]])),
      state: { rounds: [...this.rounds], asked: digest, partial: answers },
    });
  }

  /**
   * The answers that apply to this round: the client's `inputResponses` answer the round it was
   * asked (or, on a first call, the first), once; keys it was not asked are ignored (mrtr: the
   * server SHOULD ignore what it does not recognise).
   */
  private answersFor(index: number, digest: string, requests: Record<string, InputRequest>): Record<string, unknown> {
    const asked = this.state ? index === this.state.rounds.length && digest === this.state.asked : index === 0;
    const answers: Record<string, unknown> = asked && this.state ? { ...this.state.partial } : {};
    const responses = asked ? this.responses : undefined;
    this.responses = undefined;
    for (const [key, request] of Object.entries(requests)) {
      if (responses === undefined || !Object.hasOwn(responses, key)) continue;
      answers[key] = validResponse(key, request, responses[key]);
    }
    return answers;
  }
}

/** An answer checked against its question's result schema (and an accepted form's required fields). */
function validResponse(key: string, request: InputRequest, response: unknown): unknown {
  const parsed = RESPONSE_SCHEMAS[request.method].safeParse(response);
  if (!parsed.success) throw new InvalidInputResponseError(key, `not a valid ${request.method} result`);
  if (request.method === 'elicitation/create') {
    const result = parsed.data as { action: string; content?: Record<string, unknown> };
    const missing = result.action === 'accept' ? (request.params.requestedSchema.required ?? []).filter((field) => result.content?.[field] === undefined) : [];
    if (missing.length > 0) throw new InvalidInputResponseError(key, `the accepted form lacks the required field(s) ${missing.join(', ')}`);
  }
  return response;
}
