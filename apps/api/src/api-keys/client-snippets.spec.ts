import { clientSnippets, gatewayUrls, serverNameFor } from './client-snippets';

describe('client snippets', () => {
  const urls = gatewayUrls('https://mcp.example.com/', 'acme');
  const snippets = clientSnippets(serverNameFor('acme'), urls, 'sbk_x_y') as Record<string, any>;

  it('builds the legacy SSE and Streamable HTTP URLs of the tenant', () => {
    expect(urls).toEqual({ sse: 'https://mcp.example.com/t/acme/sse', streamableHttp: 'https://mcp.example.com/t/acme/mcp' });
  });

  it('gives Cursor a url with an Authorization header', () => {
    expect(snippets.cursor).toEqual({ mcpServers: { 'switchboard-acme': { url: urls.streamableHttp, headers: { Authorization: 'Bearer sbk_x_y' } } } });
  });

  it('gives VS Code an http server entry', () => {
    expect(snippets.vscode.servers['switchboard-acme']).toEqual({ type: 'http', url: urls.streamableHttp, headers: { Authorization: 'Bearer sbk_x_y' } });
  });

  it('gives Claude Desktop the mcp-remote stdio bridge with the key in env, not in the arguments', () => {
    const entry = snippets.claudeDesktop.mcpServers['switchboard-acme'];
    expect(entry.args).toEqual(['-y', 'mcp-remote', urls.streamableHttp, '--header', 'Authorization:${AUTH_HEADER}']);
    expect(entry.env).toEqual({ AUTH_HEADER: 'Bearer sbk_x_y' });
    expect(entry.args.join(' ')).not.toContain('sbk_');
  });

  it('gives OAuth-capable clients the URL only, with no key anywhere in it', () => {
    expect(snippets.claudeConnector).toEqual({ name: 'switchboard-acme', url: urls.streamableHttp });
    expect(snippets.chatgptConnector).toEqual({ name: 'switchboard-acme', url: urls.streamableHttp });
    expect(snippets.cursorOAuth).toEqual({ mcpServers: { 'switchboard-acme': { url: urls.streamableHttp } } });
    expect(snippets.vscodeOAuth).toEqual({ servers: { 'switchboard-acme': { type: 'http', url: urls.streamableHttp } } });
    for (const key of ['claudeConnector', 'chatgptConnector', 'cursorOAuth', 'vscodeOAuth']) {
      expect(JSON.stringify(snippets[key])).not.toMatch(/sbk_|Authorization/);
    }
  });
});
