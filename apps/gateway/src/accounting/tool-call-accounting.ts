import { createUsageEvent, USAGE_SUBJECT_MAX_LENGTH, type UsageSink } from '@switchboard/metering';
import type { CredentialBinding } from '../auth/credential-binding';
import type { GatewayLimits, LeaseRelease } from './gateway-limits';
import type { GatewayTelemetry } from './gateway-telemetry';
import type { FinishedToolCall, ToolCalls } from '../sessions/tool-calls';


/**
 * The bookkeeping around each tool call, where the tool runs (the session's node): limits before
 * the handler, and afterwards the usage event (for the tenant's usage API) and the metrics (for
 * operators). Recording never waits on Redis or Postgres: the sink only appends to a buffer.
 */
export class ToolCallAccounting implements ToolCalls {
  constructor(
    private readonly limits: GatewayLimits,
    private readonly usage: UsageSink,
    private readonly telemetry: GatewayTelemetry,
  ) {}

  /** Throws the JSON-RPC limit error when a limit refuses; otherwise returns the in-flight slot's release. */
  async admit(binding: CredentialBinding, plugin: string, tool: string): Promise<LeaseRelease> {
    try {
      return await this.limits.acquireToolCall(binding);
    } catch (error) {
      this.telemetry.toolCallRefused(plugin, tool);
      throw error;
    }
  }

  finished(binding: CredentialBinding, call: FinishedToolCall): void {
    this.telemetry.toolCallFinished(call.plugin, call.tool, call.outcome, call.durationMs / 1000);
    this.usage.record(
      createUsageEvent({
        tenantId: binding.tenantId,
        keyId: binding.keyId,
        // A subject the event schema would refuse would lose the whole event in the worker: the call
        // still counts, for the key.
        ...(binding.subject && binding.subject.length <= USAGE_SUBJECT_MAX_LENGTH ? { subject: binding.subject } : {}),
        plugin: call.plugin,
        tool: call.tool,
        // The usage API counts calls and errors; a timeout is an error to the tenant, and a round
        // that asked the client for input (2026-07-28) a call that ran.
        outcome: call.outcome === 'ok' || call.outcome === 'input_required' ? 'ok' : 'error',
        durationMs: Math.round(call.durationMs),
        bytesIn: call.bytesIn,
        bytesOut: call.bytesOut,
      }),
    );
  }
}
