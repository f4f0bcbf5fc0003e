import type { CallOutcome } from '@switchboard/metrics';
import type { CredentialBinding } from '../auth/credential-binding';

/** What one finished tool call reports. */
export interface FinishedToolCall {
  plugin: string;
  tool: string;
  outcome: Exclude<CallOutcome, 'rejected'>;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * What a session's tool calls need from accounting (accounting/tool-call-accounting.ts): a limit
 * check before the handler, and the record of the finished call. Declared here, on the floor
 * that uses it, so sessions never import the accounting above them.
 */
export interface ToolCalls {
  /** Throws the JSON-RPC limit error when a limit refuses; otherwise the in-flight slot's release. */
  admit(binding: CredentialBinding, plugin: string, tool: string): Promise<() => Promise<void>>;
  finished(binding: CredentialBinding, call: FinishedToolCall): void;
}
