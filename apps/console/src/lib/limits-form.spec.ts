import { describeLimit, toInputs, toOverrides } from './limits-form';

describe('limits form', () => {
  it('keeps the three states apart: empty inherits, "no limit" is null, digits are a number', () => {
    const inputs = toInputs({ toolCallsPerMinute: 60, concurrentSessions: null });
    expect(inputs.toolCallsPerMinute).toEqual({ value: '60', unlimited: false });
    expect(inputs.concurrentSessions).toEqual({ value: '', unlimited: true });
    expect(inputs.requestsPerMinute).toEqual({ value: '', unlimited: false });
    expect(toOverrides(inputs, 'tenant')).toEqual({ toolCallsPerMinute: 60, concurrentSessions: null });
  });

  it('sends what is not a whole number as typed, so the API names the field', () => {
    const inputs = toInputs({});
    inputs.requestsPerMinute = { value: '1.5', unlimited: false };
    inputs.toolCallsPerMinute = { value: ' 20 ', unlimited: false };
    expect(toOverrides(inputs, 'tenant')).toEqual({ requestsPerMinute: '1.5', toolCallsPerMinute: 20 });
  });

  it('leaves the tenant-only monthly quota out of a key', () => {
    const inputs = toInputs({ monthlyToolCalls: 1000, concurrentToolCalls: 4 });
    expect(toOverrides(inputs, 'key')).toEqual({ concurrentToolCalls: 4 });
    expect(toOverrides(inputs, 'tenant')).toEqual({ monthlyToolCalls: 1000, concurrentToolCalls: 4 });
  });

  it('describes a stored value', () => {
    expect([describeLimit(undefined), describeLimit(null), describeLimit(25000)]).toEqual(['inherited', 'no limit', '25,000']);
  });
});
