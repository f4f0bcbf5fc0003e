import { LIMITS, type LimitInputs } from '../lib/limits-form';
import { Field } from './ui';

/**
 * One box per limit, and a "No limit" box beside it. `errors` are the API's field errors keyed
 * by limit name (the path after `limits.`), shown beside their box.
 */
export function LimitFields({ level, inputs, errors, onChange }: { level: 'tenant' | 'key'; inputs: LimitInputs; errors: Record<string, string>; onChange: (inputs: LimitInputs) => void }) {
  return (
    <div className="limit-fields">
      {LIMITS.filter((limit) => level === 'tenant' || !limit.tenantOnly).map(({ name, label }) => {
        const input = inputs[name] ?? { value: '', unlimited: false };
        const set = (change: Partial<typeof input>) => onChange({ ...inputs, [name]: { ...input, ...change } });
        return (
          <div className="limit-row" key={name}>
            <Field label={label} error={errors[name]} hint={level === 'tenant' ? 'Empty: the platform default.' : "Empty: the tenant's limit."}>
              {(props) => (
                <input {...props} name={name} inputMode="numeric" autoComplete="off" value={input.unlimited ? '' : input.value} disabled={input.unlimited} onChange={(event) => set({ value: event.target.value })} />
              )}
            </Field>
            <label className="field-check limit-unlimited">
              <input type="checkbox" checked={input.unlimited} onChange={(event) => set({ unlimited: event.target.checked })} />
              No limit<span className="visually-hidden"> on {label.toLowerCase()}</span>
            </label>
          </div>
        );
      })}
    </div>
  );
}
