import { randomUUID } from 'node:crypto';
import { createUsageEvent, usageEventSchema, USAGE_SUBJECT_MAX_LENGTH } from './usage-event';

const fields = { tenantId: randomUUID(), keyId: randomUUID(), plugin: 'notes', tool: 'search', outcome: 'ok' as const, durationMs: 1, bytesIn: 2, bytesOut: 3 };

describe('usageEventSchema', () => {
  it('accepts an event without a subject, as gateways from before subjects send them', () => {
    expect(usageEventSchema.safeParse(createUsageEvent(fields)).success).toBe(true);
  });

  it('keeps the subject of an event that has one', () => {
    const parsed = usageEventSchema.parse(createUsageEvent({ ...fields, subject: 'sso:https://idp.example#alice' }));
    expect(parsed.subject).toBe('sso:https://idp.example#alice');
  });

  it('refuses an empty subject and one longer than the bound', () => {
    expect(usageEventSchema.safeParse(createUsageEvent({ ...fields, subject: '' })).success).toBe(false);
    expect(usageEventSchema.safeParse(createUsageEvent({ ...fields, subject: 'x'.repeat(USAGE_SUBJECT_MAX_LENGTH + 1) })).success).toBe(false);
  });
});
