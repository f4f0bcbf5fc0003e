import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';

/**
 * The SDK's JSON Schema validator for one session's Server, made on first use.
 *
 * The SDK's `Server` builds an Ajv instance (with every ajv-formats format) in its constructor:
 * about 18 KB of heap per session, most of an idle session's cost, although a session server only
 * uses it to check answers to `elicitInput`, which the gateway never calls (its elicitations go
 * through `sendRequest`). Made lazily, an idle session pays for one empty object.
 *
 * Why not one Ajv shared by every session: Ajv caches a schema under its `$id`, so a schema with
 * the `$id` of another tenant's would be validated by that tenant's schema, and the cache would
 * grow with every schema any session compiles. One instance per session, as the SDK has it, keeps
 * both bounded by the session.
 */
export class LazySchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.inner ??= new AjvJsonSchemaValidator();
    return this.inner.getValidator<T>(schema);
  }

  /** True once a validator was asked for (for tests). */
  get created(): boolean {
    return this.inner !== undefined;
  }
}
