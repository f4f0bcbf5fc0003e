export { SecretBox, SecretBoxError, SECRET_BOX_VERSION, pluginSecretsAad } from './secret-box';
export type { SecretBoxKeys, SecretBoxErrorCode } from './secret-box';
export { keyIdOf, KEY_ID_HEX_LENGTH } from './key-id';
export { loadPlatformSecrets, SECRETS_FILE_NAME } from './platform-secrets';
export type { PlatformSecrets, PlatformSecretsInput, ConfiguredSecrets, IdentifiedKey, KeyRing } from './platform-secrets';
