// The platform as an OAuth 2.1 client of upstream MCP servers (docs/upstream-oauth.md): the
// credentials it holds (Postgres, sealed), the connect round trip's seals, and the SDK-based
// protocol steps. Used by the admin API (start a connect, show a status) and the gateway.
export { ConnectSeals, CONNECT_TTL_MS } from './connect-seals';
export type { ConnectBinding, SealedConnect } from './connect-seals';
export { decideToken, refreshFailureIsTerminal, REFRESH_MARGIN_MS } from './refresh-decision';
export type { TokenDecision } from './refresh-decision';
export { UpstreamCredentialStore, SHARED_SUBJECT, REFRESH_TIMEOUT_MS, UPSTREAM_CONNECT_PATH, connectUrlOf } from './upstream-credentials';
export type { CredentialStatus, CredentialView, CredentialTarget, PendingConnect, PersonalCredentialView } from './upstream-credentials';
export { personOf, credentialModeOf, keySignInSubject, samePerson, connectionKeyOf, noPersonMessage, MAX_PERSON_SUBJECT_CHARS } from './person-subject';
export type { CallerIdentity, PersonDecision, PersonRefusal } from './person-subject';
export {
  discoverUpstream,
  chooseClientIdentity,
  platformClientMetadata,
  clientFor,
  authorizationRequest,
  exchangeCode,
  UpstreamDiscoveryError,
  sdkFetch,
} from './upstream-oauth-client';
export type { UpstreamAuthorizationServer, UpstreamClientState, ClientIdentity } from './upstream-oauth-client';
