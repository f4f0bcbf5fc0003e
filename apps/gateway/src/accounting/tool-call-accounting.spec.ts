import type { UsageEvent, UsageSink } from '@switchboard/metering';
import { USAGE_SUBJECT_MAX_LENGTH } from '@switchboard/metering';
import type { CredentialBinding } from '../auth/credential-binding';
import type { GatewayLimits } from './gateway-limits';
import type { GatewayTelemetry } from './gateway-telemetry';
import { ToolCallAccounting } from './tool-call-accounting';

class RecordingSink implements UsageSink {
  readonly events: UsageEvent[] = [];
  record(event: UsageEvent): void {
    this.events.push(event);
  }
  stats() {
    return { buffered: 0, delivered: this.events.length, dropped: 0 };
  }
  async close(): Promise<void> {}
}

const telemetry = { toolCallFinished: () => undefined, toolCallRefused: () => undefined } as unknown as GatewayTelemetry;
const limits = {} as GatewayLimits;
const call = { plugin: 'notes', tool: 'search', outcome: 'ok' as const, durationMs: 4.4, bytesIn: 10, bytesOut: 20 };

function binding(subject: string | undefined): CredentialBinding {
  return { tenantId: 't1', keyId: 'k1', subject, plugins: [], tenantLimits: {}, keyLimits: {}, expiresAt: undefined };
}

describe('ToolCallAccounting', () => {
  it("records the binding's subject on the usage event", () => {
    const sink = new RecordingSink();
    new ToolCallAccounting(limits, sink, telemetry).finished(binding('sso:https://idp.example#alice'), call);
    expect(sink.events[0]).toMatchObject({ tenantId: 't1', keyId: 'k1', subject: 'sso:https://idp.example#alice', durationMs: 4 });
  });

  it('records no subject for an API key, and none for a subject the event schema would refuse', () => {
    const sink = new RecordingSink();
    const accounting = new ToolCallAccounting(limits, sink, telemetry);
    accounting.finished(binding(undefined), call);
    accounting.finished(binding('x'.repeat(USAGE_SUBJECT_MAX_LENGTH + 1)), call);
    expect(sink.events.map((e) => 'subject' in e)).toEqual([false, false]);
  });
});
