import { Body, Query } from '@nestjs/common';
import type { z } from 'zod';
import { ApiZodBody, ApiZodQuery } from '../openapi/zod-openapi';
import { ZodValidationPipe } from './zod-validation.pipe';

// A route names each request schema once: the same decorator validates the value (400 with field
// paths otherwise) and describes it in the OpenAPI document, so the two cannot drift.

/** The request body, validated and documented: `create(@ZodBody(createTenantSchema) body: CreateTenantInput)`. */
export function ZodBody(schema: z.ZodType, description?: string): ParameterDecorator {
  return validatedAndDocumented(Body(new ZodValidationPipe(schema)), ApiZodBody(schema, description));
}

/** The query string as one object, validated and documented parameter by parameter. */
export function ZodQuery(schema: z.ZodObject): ParameterDecorator {
  return validatedAndDocumented(Query(new ZodValidationPipe(schema)), ApiZodQuery(schema));
}

function validatedAndDocumented(validated: ParameterDecorator, documented: MethodDecorator): ParameterDecorator {
  return (target, method, index) => {
    if (method === undefined) throw new Error('request decorators belong on a parameter of a route handler');
    validated(target, method, index);
    // The OpenAPI decorators are method decorators: they record on the handler function itself.
    documented(target, method, Object.getOwnPropertyDescriptor(target, method)!);
  };
}
