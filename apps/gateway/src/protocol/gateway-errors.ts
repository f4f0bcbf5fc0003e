// The second error family: failures inside the gateway. They are logged (secrets masked by the
// logger) and never sent to clients as they are; clients get a generic JSON-RPC error instead.

export type GatewayErrorCode = 'plugin_config_invalid' | 'plugin_secrets_unreadable';

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}
