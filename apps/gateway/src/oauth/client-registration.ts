import { z } from 'zod';
import { MAX_REDIRECT_URIS } from '@switchboard/oauth-policy';
import { redirectUriProblem, type ApplicationType } from './oauth-rules';

/** A registration request larger than this is refused unread. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;

export const TOKEN_ENDPOINT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

const httpsUri = z.string().max(2048).refine((value) => {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an https URI');

/** RFC 7591 §2 client metadata: what we use; other fields are kept as received for display. */
const registrationSchema = z.looseObject({
  redirect_uris: z.array(z.string().max(2048)).min(1).max(MAX_REDIRECT_URIS),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).default('none'),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  application_type: z.enum(['web', 'native']).optional(),
  client_name: z.string().trim().min(1).max(200).optional(),
  client_uri: httpsUri.optional(),
  logo_uri: httpsUri.optional(),
  scope: z.string().max(2048).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});

export interface ValidRegistration {
  redirectUris: string[];
  tokenEndpointAuth: TokenEndpointAuthMethod;
  applicationType: ApplicationType;
  name: string;
  clientUri: string | undefined;
  grantTypes: string[];
  metadata: Record<string, unknown>;
}

export type RegistrationCheck = { ok: true; registration: ValidRegistration } | { ok: false; error: 'invalid_redirect_uri' | 'invalid_client_metadata'; description: string };

/**
 * RFC 7591 §3.2.2 decisions on a registration body. `application_type` (OpenID Dynamic
 * Registration §2) defaults to `web`, except that a client registering only loopback or
 * private-use redirect URIs is a native app (RFC 8252 §8.4), as most MCP desktop clients are.
 */
export function checkRegistration(body: unknown): RegistrationCheck {
  const parsed = registrationSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    return { ok: false, error: field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata', description: `${field || 'body'}: ${issue.message}` };
  }
  const request = parsed.data;
  const grantTypes = request.grant_types ?? ['authorization_code', 'refresh_token'];
  if (grantTypes.some((g) => g !== 'authorization_code' && g !== 'refresh_token') || !grantTypes.includes('authorization_code'))
    return { ok: false, error: 'invalid_client_metadata', description: 'grant_types: only authorization_code and refresh_token are supported' };
  if (request.response_types && request.response_types.some((r) => r !== 'code'))
    return { ok: false, error: 'invalid_client_metadata', description: 'response_types: only "code" is supported' };
  const applicationType: ApplicationType = request.application_type ?? (request.redirect_uris.every(looksNative) ? 'native' : 'web');
  for (const uri of request.redirect_uris) {
    const problem = redirectUriProblem(uri, applicationType);
    if (problem) return { ok: false, error: 'invalid_redirect_uri', description: `${uri} ${problem}` };
  }
  return {
    ok: true,
    registration: {
      redirectUris: request.redirect_uris,
      tokenEndpointAuth: request.token_endpoint_auth_method,
      applicationType,
      name: request.client_name ?? 'Unnamed application',
      clientUri: request.client_uri,
      grantTypes,
      metadata: request as Record<string, unknown>,
    },
  };
}

function looksNative(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol !== 'https:';
  } catch {
    return false;
  }
}
