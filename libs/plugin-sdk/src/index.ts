// The contract between Switchboard and its plugins. Anything exported here is public API for
// plugin authors; it deliberately exposes no @modelcontextprotocol/sdk types.
export { definePlugin, defineTool, definePrompt, secret, isSecretSchema, PLUGIN_MARK } from './define-plugin';
export type {
  Plugin,
  PluginDefinition,
  ToolDefinition,
  ListedToolDefinition,
  ToolReturn,
  ResourceDefinition,
  ResourceTemplateDefinition,
  PromptDefinition,
  Completer,
  ObjectSchema,
} from './define-plugin';
export type { PluginContext, PluginSetupContext, ToolContext, ToolListingContext, PluginLogger, ClientInput, InteractiveContext, UpstreamCredentials } from './plugin-context';
export { UpstreamConnectRequiredError } from './plugin-context';
export type { TenantStorage } from './tenant-storage';
export type { OutboundNetwork, OutboundPolicy } from '@switchboard/plugin-net';
export { ClientCapabilityError, PluginNotFoundError, UpstreamAuthorizationError } from './plugin-errors';
export type { ClientCapability } from './plugin-errors';
export { LOG_LEVELS } from './mcp-content';
export type {
  Annotations,
  TextContent,
  ImageContent,
  AudioContent,
  EmbeddedResource,
  ResourceLink,
  ContentBlock,
  ResourceContents,
  TextResourceContents,
  BlobResourceContents,
  ToolResult,
  ToolAnnotations,
  PromptMessage,
  PromptResult,
  LogLevel,
  SamplingMessage,
  SamplingRequest,
  SamplingResult,
  ElicitationSchema,
  ElicitationRequest,
  ElicitationResult,
  Root,
  RootsResult,
  InputRequest,
  InputResponse,
  InputResponses,
} from './mcp-content';
