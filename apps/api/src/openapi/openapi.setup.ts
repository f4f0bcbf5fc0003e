import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_JWT_SECURITY, API_KEY_SECURITY } from '../auth/access.decorator';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const SWAGGER_UI_PATH = 'docs';

/** Serves the OpenAPI document at /openapi.json and Swagger UI at /docs. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchboard admin API')
    .setDescription(
      'Tenants, API keys, plugins and the audit log of a Switchboard MCP platform. ' +
        'Errors always have the body { "error": { "code", "message", "details"? } }.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Admin JWT' }, ADMIN_JWT_SECURITY)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Tenant API key (sbk_…)' }, API_KEY_SECURITY)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup(SWAGGER_UI_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH, yamlDocumentUrl: undefined });
}
