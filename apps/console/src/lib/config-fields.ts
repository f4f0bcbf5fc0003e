// A plugin's configuration form, generated from the JSON Schema the catalog returns
// (GET /v1/plugins: configSchema, secretFields). Pure functions, so the rules have a unit spec.

/** `map`: an object of string → string (remote-mcp's `headers`), edited as name/value rows. */
export type FieldKind = 'text' | 'url' | 'number' | 'integer' | 'boolean' | 'enum' | 'map' | 'json';

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

/** One name/value row of a `map` field. */
export interface MapRow {
  name: string;
  value: string;
}

export type FormValues = Record<string, string | boolean | MapRow[]>;

interface PropertySchema {
  type?: unknown;
  format?: unknown;
  enum?: unknown;
  description?: unknown;
  default?: unknown;
  anyOf?: unknown;
  properties?: unknown;
  additionalProperties?: unknown;
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
    case 'object':
      return isStringMap(property) ? 'map' : 'json';
    default:
      return 'json';
  }
}

/** An object whose every value is a string and that declares no fixed properties. */
function isStringMap(property: PropertySchema): boolean {
  const values = property.additionalProperties as { type?: unknown } | undefined;
  const fixed = property.properties as Record<string, unknown> | undefined;
  return typeof values === 'object' && values !== null && values.type === 'string' && (fixed === undefined || Object.keys(fixed).length === 0);
}

/** The form's starting values: the stored config, else the schema's default; secrets always empty. */
export function initialValues(fields: ConfigField[], stored: Record<string, unknown> = {}): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const value = field.secret ? undefined : (stored[field.name] ?? field.defaultValue);
    if (field.kind === 'boolean') values[field.name] = value === true;
    else if (field.kind === 'map') values[field.name] = value && typeof value === 'object' ? Object.entries(value as Record<string, unknown>).map(([name, v]) => ({ name, value: String(v) })) : [];
    else if (value === undefined) values[field.name] = '';
    else values[field.name] = field.kind === 'json' ? JSON.stringify(value) : String(value);
  }
  return values;
}

/**
 * The config to send: empty fields are left out (the plugin's default applies, a secret keeps
 * its stored value). A value the form cannot read becomes an error under its field's name; for a
 * `map` row, under `field.name` (a row without a name: `field.#<row>`), so it shows beside that
 * row as the API's `config.headers.Host` does.
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
    if (field.kind === 'map') {
      const map = toMap(field.name, Array.isArray(value) ? value : [], errors);
      // No rows: left out, so a write-only map keeps what is stored.
      if (map) config[field.name] = map;
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

/** Rows → object; rows left wholly empty are dropped; a nameless row or a name given twice is an error. */
function toMap(fieldName: string, rows: MapRow[], errors: Record<string, string>): Record<string, string> | undefined {
  const map: Record<string, string> = {};
  rows.forEach((row, index) => {
    const name = row.name.trim();
    if (name === '' && row.value === '') return;
    if (name === '') errors[mapRowKey(fieldName, row, index)] = 'give this row a name';
    // An object cannot hold one name twice: sending it would silently drop a row.
    else if (name in map) errors[mapRowKey(fieldName, row, index)] = 'this name is given twice';
    else map[name] = row.value;
  });
  return Object.keys(map).length > 0 ? map : undefined;
}

/** Where a row's error is kept: under its name as the API names it (`headers.Host`), else its position. */
export function mapRowKey(fieldName: string, row: MapRow, index: number): string {
  const name = row.name.trim();
  return name === '' ? `${fieldName}.#${index}` : `${fieldName}.${name}`;
}
