import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The zod schemas that validate requests also describe them in the OpenAPI document, so the
 * two cannot drift: one validation language end to end.
 */

type SchemaObject = Record<string, unknown>;

export function toOpenApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as SchemaObject;
  delete json['$schema'];
  return json;
}

export function ApiZodBody(schema: z.ZodType, description?: string): MethodDecorator {
  return ApiBody({ schema: toOpenApiSchema(schema) as never, description });
}

export function ApiZodQuery(schema: z.ZodObject): MethodDecorator {
  const json = toOpenApiSchema(schema);
  const properties = (json['properties'] ?? {}) as Record<string, SchemaObject>;
  const required = new Set((json['required'] ?? []) as string[]);
  return applyDecorators(
    ...Object.entries(properties).map(([name, property]) =>
      ApiQuery({ name, required: required.has(name), schema: property as never }),
    ),
  );
}

export function ApiZodResponse(status: number, schema: z.ZodType, description = 'Success'): MethodDecorator {
  return ApiResponse({ status, description, schema: toOpenApiSchema(schema, 'output') as never });
}
