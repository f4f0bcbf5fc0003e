import { createUsageEvent, type UsageSink } from '@switchboard/metering';
import type { CallOutcome } from '@switchboard/metrics';
import type { CredentialBinding } from '../auth/credential-binding';
import type { GatewayLimits, LeaseRelease } from '../limits/gateway-limits';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry';

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
 * The bookkeeping around each tool call, where the tool runs (the session's node): limits before
 * the handler, and afterwards the usage event (for the tenant's usage API) and the metrics (for
 * operators). Recording never waits on Redis or Postgres: the sink only appends to a buffer.
 */
export class ToolCallAccounting {
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
        plugin: call.plugin,
        tool: call.tool,
        // The usage API counts calls and errors; a timeout is an error to the tenant.
        outcome: call.outcome === 'ok' ? 'ok' : 'error',
        durationMs: Math.round(call.durationMs),
        bytesIn: call.bytesIn,
        bytesOut: call.bytesOut,
      }),
    );
  }
}

/** Sizes above this are recorded as this: far above any body the gateway accepts. */
export const MAX_MEASURED_BYTES = 64 * 1024 * 1024;

/**
 * About how many bytes `value` takes as JSON, for usage records, without serialising it: an
 * iterative walk (no recursion, so no stack overflow at any depth) that counts each object once
 * (a cycle ends it), stops at `limit` and never throws. String escapes are not counted, and
 * `toJSON` is not called: an estimate, not the exact bytes written.
 */
export function approximateJsonBytes(value: unknown, limit = MAX_MEASURED_BYTES): number {
  let bytes = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  try {
    while (stack.length > 0 && bytes < limit) {
      const item = stack.pop();
      switch (typeof item) {
        case 'string':
          bytes += Buffer.byteLength(item) + 2;
          break;
        case 'number':
        case 'bigint':
          bytes += String(item).length;
          break;
        case 'boolean':
          bytes += item ? 4 : 5;
          break;
        case 'object': {
          if (item === null) {
            bytes += 4;
            break;
          }
          if (seen.has(item)) break;
          seen.add(item);
          if (Array.isArray(item)) {
            bytes += 2 + Math.max(item.length - 1, 0);
            for (const element of item) stack.push(element);
          } else {
            const keys = Object.keys(item);
            bytes += 2 + Math.max(keys.length - 1, 0);
            for (const key of keys) {
              bytes += Buffer.byteLength(key) + 3;
              stack.push((item as Record<string, unknown>)[key]);
            }
          }
          break;
        }
        default:
          // undefined, functions and symbols: JSON leaves them out.
          break;
      }
    }
  } catch {
    // A throwing getter or proxy: what was counted so far stands.
  }
  return Math.min(Math.round(bytes), limit);
}
