/**
 * What a user pastes into an MCP client after issuing a key. Formats as each client documents
 * them: Cursor reads `mcpServers` with `url` + `headers`; VS Code reads `servers` with
 * `type: "http"`; Claude Desktop only starts stdio servers, so it goes through the `mcp-remote`
 * bridge, with the key in `env` (mcp-remote expands `${AUTH_HEADER}`; no space after the colon
 * because some clients split arguments on spaces).
 *
 * The "URL only" entries are for clients that sign in with OAuth (docs/oauth.md): claude.ai and
 * Claude Desktop custom connectors and ChatGPT connectors take just a name and the URL; Cursor and
 * VS Code, given no header, meet the 401 and start the OAuth flow themselves. They carry no key.
 */

export interface GatewayUrls {
  /** Legacy HTTP+SSE transport (2024-11-05 clients). */
  sse: string;
  /** Streamable HTTP transport (current clients). */
  streamableHttp: string;
}

export interface ClientSnippets {
  cursor: unknown;
  claudeDesktop: unknown;
  vscode: unknown;
  /** claude.ai / Claude Desktop "Add custom connector": name and URL, sign-in through OAuth. */
  claudeConnector: unknown;
  /** ChatGPT connector: name and URL, sign-in through OAuth. */
  chatgptConnector: unknown;
  /** Cursor without the header: it signs in through OAuth. */
  cursorOAuth: unknown;
  /** VS Code without the header: it signs in through OAuth. */
  vscodeOAuth: unknown;
}

/** The tenant's URLs, or a virtual server's when given (a key restricted to virtual servers is admitted only there). */
export function gatewayUrls(publicGatewayUrl: string, tenantSlug: string, virtualServer?: string): GatewayUrls {
  const tenant = `${publicGatewayUrl.replace(/\/+$/, '')}/t/${encodeURIComponent(tenantSlug)}`;
  const base = virtualServer === undefined ? tenant : `${tenant}/v/${encodeURIComponent(virtualServer)}`;
  return { sse: `${base}/sse`, streamableHttp: `${base}/mcp` };
}

export function clientSnippets(serverName: string, urls: GatewayUrls, apiKey: string): ClientSnippets {
  const authorization = `Bearer ${apiKey}`;
  return {
    cursor: { mcpServers: { [serverName]: { url: urls.streamableHttp, headers: { Authorization: authorization } } } },
    vscode: { servers: { [serverName]: { type: 'http', url: urls.streamableHttp, headers: { Authorization: authorization } } } },
    claudeDesktop: {
      mcpServers: {
        [serverName]: {
          command: 'npx',
          args: ['-y', 'mcp-remote', urls.streamableHttp, '--header', 'Authorization:${AUTH_HEADER}'],
          env: { AUTH_HEADER: authorization },
        },
      },
    },
    claudeConnector: { name: serverName, url: urls.streamableHttp },
    chatgptConnector: { name: serverName, url: urls.streamableHttp },
    cursorOAuth: { mcpServers: { [serverName]: { url: urls.streamableHttp } } },
    vscodeOAuth: { servers: { [serverName]: { type: 'http', url: urls.streamableHttp } } },
  };
}

/** The name the server gets in client configs. */
export function serverNameFor(tenantSlug: string): string {
  return `switchboard-${tenantSlug}`;
}
