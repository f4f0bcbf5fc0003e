import type { LimitName, LimitOverrides } from '../api/types';

// A limit override has three states, and the form shows each one plainly: an empty box inherits
// (key → tenant → platform default), "No limit" stores null, a number stores that number.

export interface LimitInfo {
  name: LimitName;
  label: string;
  /** Only the tenant has a monthly quota; a key's overrides leave it out. */
  tenantOnly?: boolean;
}

export const LIMITS: LimitInfo[] = [
  { name: 'requestsPerMinute', label: 'Requests per minute' },
  { name: 'toolCallsPerMinute', label: 'Tool calls per minute' },
  { name: 'concurrentSessions', label: 'Open sessions at once' },
  { name: 'concurrentToolCalls', label: 'Tool calls in flight at once' },
  { name: 'monthlyToolCalls', label: 'Tool calls per month (UTC)', tenantOnly: true },
];

export interface LimitInput {
  value: string;
  unlimited: boolean;
}
export type LimitInputs = Partial<Record<LimitName, LimitInput>>;

export function toInputs(overrides: LimitOverrides | undefined): LimitInputs {
  const inputs: LimitInputs = {};
  for (const { name } of LIMITS) {
    const value = overrides?.[name];
    inputs[name] = { value: typeof value === 'number' ? String(value) : '', unlimited: value === null };
  }
  return inputs;
}

/**
 * The overrides to send. A box that holds something other than digits goes to the API as typed,
 * so the API's validation names the field and the form shows its message beside the box.
 */
export function toOverrides(inputs: LimitInputs, level: 'tenant' | 'key'): Record<string, number | null | string> {
  const overrides: Record<string, number | null | string> = {};
  for (const { name, tenantOnly } of LIMITS) {
    if (tenantOnly && level === 'key') continue;
    const input = inputs[name];
    if (!input) continue;
    if (input.unlimited) overrides[name] = null;
    else if (input.value.trim() === '') continue;
    else overrides[name] = /^\d+$/.test(input.value.trim()) ? Number(input.value.trim()) : input.value;
  }
  return overrides;
}

/** "1,000", "no limit" or "inherited": what a limit is set to at this level. */
export function describeLimit(value: number | null | undefined): string {
  if (value === undefined) return 'inherited';
  if (value === null) return 'no limit';
  return value.toLocaleString('en-US');
}
