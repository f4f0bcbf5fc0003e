import { LazySchemaValidator } from './lazy-schema-validator';

describe('LazySchemaValidator', () => {
  it('makes no Ajv instance until a schema is checked', () => {
    expect(new LazySchemaValidator().created).toBe(false);
  });

  it('checks values like the SDK validator, formats included', () => {
    const validator = new LazySchemaValidator();
    const check = validator.getValidator<{ email: string }>({
      type: 'object',
      properties: { email: { type: 'string', format: 'email' } },
      required: ['email'],
    });
    expect(validator.created).toBe(true);
    expect(check({ email: 'ada@example.com' })).toEqual({ valid: true, data: { email: 'ada@example.com' }, errorMessage: undefined });
    const refused = check({ email: 'not an address' });
    expect(refused.valid).toBe(false);
    expect(refused.errorMessage).toContain('email');
  });

  it('keeps each session to its own schemas: an $id seen in one session does not answer for another', () => {
    const first = new LazySchemaValidator();
    const second = new LazySchemaValidator();
    first.getValidator({ $id: 'https://example.com/answer.json', type: 'string' });
    const check = second.getValidator({ $id: 'https://example.com/answer.json', type: 'number' });
    expect(check(42).valid).toBe(true);
    expect(check('text').valid).toBe(false);
  });
});
