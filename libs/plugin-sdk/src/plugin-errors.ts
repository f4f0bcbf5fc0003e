/** What a handler can ask of a client, each only if the client declared it. */
export type ClientCapability = 'sampling' | 'elicitation' | 'roots';

/** The connected client did not declare the capability a handler asked for (sampling, elicitation, roots). */
export class ClientCapabilityError extends Error {
  constructor(readonly capability: ClientCapability) {
    super(`The client does not support ${capability}`);
    this.name = 'ClientCapabilityError';
  }
}

/** A resource URI or prompt name that the plugin does not know; the gateway answers "not found". */
export class PluginNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginNotFoundError';
  }
}

/**
 * The platform holds no usable upstream credential for this installation (never connected, or its
 * refresh failed): the message says how a tenant admin reconnects. A tool shows it as its error.
 */
export class UpstreamAuthorizationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamAuthorizationError';
  }
}
