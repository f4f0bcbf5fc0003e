// Plain shapes of what tools, resources and prompts return, as the MCP specification writes them.
// They are declared here rather than imported from @modelcontextprotocol/sdk so that plugins do not
// depend on the SDK's classes or zod schemas, and the gateway can upgrade the SDK under them.

export type Annotations = { audience?: ('user' | 'assistant')[]; priority?: number; lastModified?: string };
type Meta = { _meta?: Record<string, unknown> };

export type TextContent = { type: 'text'; text: string; annotations?: Annotations } & Meta;
/** `data` is base64. */
export type ImageContent = { type: 'image'; data: string; mimeType: string; annotations?: Annotations } & Meta;
/** `data` is base64. */
export type AudioContent = { type: 'audio'; data: string; mimeType: string; annotations?: Annotations } & Meta;

export type TextResourceContents = { uri: string; mimeType?: string; text: string } & Meta;
/** `blob` is base64. */
export type BlobResourceContents = { uri: string; mimeType?: string; blob: string } & Meta;
export type ResourceContents = TextResourceContents | BlobResourceContents;

export type EmbeddedResource = { type: 'resource'; resource: ResourceContents; annotations?: Annotations } & Meta;
export type ResourceLink = {
  type: 'resource_link';
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  annotations?: Annotations;
} & Meta;

export type ContentBlock = TextContent | ImageContent | AudioContent | EmbeddedResource | ResourceLink;

export interface ToolResult {
  content: ContentBlock[];
  /** Must match the tool's `output` schema when it declares one. */
  structuredContent?: Record<string, unknown>;
  /** A failure the model should see and may recover from (as opposed to a protocol error). */
  isError?: boolean;
}

/** Hints for clients; see the MCP specification's ToolAnnotations. */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export type PromptMessage = {
  role: 'user' | 'assistant';
  content: TextContent | ImageContent | AudioContent | EmbeddedResource | ResourceLink;
};

export interface PromptResult {
  description?: string;
  messages: PromptMessage[];
}

/** MCP log levels (RFC 5424 severities), lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type SamplingMessage = { role: 'user' | 'assistant'; content: TextContent | ImageContent | AudioContent };

/** What a tool may ask the client's LLM (`sampling/createMessage`). */
export interface SamplingRequest {
  messages: SamplingMessage[];
  maxTokens: number;
  systemPrompt?: string;
  temperature?: number;
  stopSequences?: string[];
  modelPreferences?: {
    hints?: { name?: string }[];
    costPriority?: number;
    speedPriority?: number;
    intelligencePriority?: number;
  };
  includeContext?: 'none' | 'thisServer' | 'allServers';
  metadata?: Record<string, unknown>;
}

export interface SamplingResult {
  role: 'user' | 'assistant';
  content: TextContent | ImageContent | AudioContent;
  model: string;
  stopReason?: string;
}

/**
 * A flat JSON Schema object of primitive fields, as `elicitation/create` allows (string, number,
 * integer, boolean, enums and enum arrays, with optional defaults).
 */
export interface ElicitationSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
}

export interface ElicitationRequest {
  message: string;
  requestedSchema: ElicitationSchema;
}

export interface ElicitationResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, string | number | boolean | string[]>;
}

/** A root the client exposes (a folder or file it lets servers know about). */
export interface Root {
  uri: string;
  name?: string;
}

export interface RootsResult {
  roots: Root[];
}

/** One thing a handler asks its client for: a question to the user, an LLM call, or the client's roots. */
export type InputRequest =
  | { method: 'elicitation/create'; params: ElicitationRequest }
  | { method: 'sampling/createMessage'; params: SamplingRequest }
  | { method: 'roots/list'; params?: Record<string, never> };

/** The client's answer to one InputRequest. */
export type InputResponse<R extends InputRequest = InputRequest> = R extends { method: 'elicitation/create' }
  ? ElicitationResult
  : R extends { method: 'sampling/createMessage' }
    ? SamplingResult
    : RootsResult;

/** The answers to a set of InputRequests, under the same keys. */
export type InputResponses<T extends Record<string, InputRequest>> = { [K in keyof T]: InputResponse<T[K]> };
