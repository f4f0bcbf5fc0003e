// A plugin's configuration form, generated from the JSON Schema the catalog returns
// (GET /v1/plugins: configSchema, secretFields). Pure functions, so the rules have a unit spec.

export type FieldKind = 'text' | 'url' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface ConfigField {
  name: string;
  kind: FieldKind;
  description?: string;
  options?: string[];
  required: boolean;
  /** Write-only: never prefilled; left empty keeps the stored value. */
  secret: boolean;
  defaultValue?: unknown;
}

export type FormValues = Record<string, string | boolean>;

interface PropertySchema {
  type?: unknown;
  format?: unknown;
  enum?: unknown;
  description?: unknown;
  default?: unknown;
  anyOf?: unknown;
}

export function configFields(schema: Record<string, unknown>, secretFields: string[]): ConfigField[] {
  const properties = (schema['properties'] ?? {}) as Record<string, PropertySchema>;
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  return Object.entries(properties).map(([name, property]) => {
    const secret = secretFields.includes(name);
    const options = Array.isArray(property.enum) && property.enum.every((v) => typeof v === 'string') ? (property.enum as string[]) : undefined;
    return {
      name,
      kind: options ? 'enum' : kindOf(property),
      description: typeof property.description === 'string' ? property.description : undefined,
      options,
      // A field with a default is optional to the person filling the form.
      required: required.has(name) && property.default === undefined && !secret,
      secret,
      defaultValue: property.default,
    };
  });
}

function kindOf(property: PropertySchema): FieldKind {
  switch (property.type) {
    case 'string':
      return property.format === 'uri' ? 'url' : 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

/** The form's starting values: the stored config, else the schema's default; secrets always empty. */
export function initialValues(fields: ConfigField[], stored: Record<string, unknown> = {}): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const value = field.secret ? undefined : (stored[field.name] ?? field.defaultValue);
    if (field.kind === 'boolean') values[field.name] = value === true;
    else if (value === undefined) values[field.name] = '';
    else values[field.name] = field.kind === 'json' ? JSON.stringify(value) : String(value);
  }
  return values;
}

/**
 * The config to send: empty fields are left out (the plugin's default applies, a secret keeps
 * its stored value). A value the form cannot read becomes an error under its field's name.
 */
export function toConfig(fields: ConfigField[], values: FormValues): { config: Record<string, unknown>; errors: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === 'boolean') {
      config[field.name] = value === true;
      continue;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') continue;
    if (field.kind === 'number' || field.kind === 'integer') {
      const number = Number(text);
      if (!Number.isFinite(number) || (field.kind === 'integer' && !Number.isInteger(number))) errors[field.name] = field.kind === 'integer' ? 'must be a whole number' : 'must be a number';
      else config[field.name] = number;
    } else if (field.kind === 'json') {
      try {
        config[field.name] = JSON.parse(text);
      } catch {
        errors[field.name] = 'must be valid JSON';
      }
    } else {
      config[field.name] = text;
    }
  }
  return { config, errors };
}
