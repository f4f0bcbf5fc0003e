// `npm start`: the admin API and the gateway in one process, on their two ports (startPlatform).
// One process is what makes the embedded defaults work: PGlite is a single-connection
// database per directory, and the in-process control bus only reaches code in this process.
// Production runs the apps separately (`npm run start:api`, `npm run start:gateway`).
import { startPlatform } from './platform';

/**
 * Where the banner sends the person at the terminal for an admin token. On the first start the API
 * has just printed one (above the banner); on later starts it prints none, and the banner names
 * the command that mints one (it reads the same secrets file and needs no running server). A
 * fresh token on every start was rejected: each restart would leave a valid platform-wide
 * credential in scrollback and in any log that captures stdout (`npm start > run.log`).
 */
function consoleSignInHint(printedToken: boolean): string {
  return printedToken ? '(sign in with the admin token printed above)' : '(sign in with an admin token: `npm run admin -- token` mints one)';
}

async function main(): Promise<void> {
  // The API prints the first-start token through this hook (straight to the terminal, never the logger).
  let printedToken = false;
  const print = (text: string) => {
    printedToken = true;
    process.stdout.write(text);
  };
  const { api, gateway, close } = await startPlatform(undefined, { api: { print } });

  process.stdout.write(
    [
      '',
      'Switchboard is running',
      `  Console    ${api.url}/console/   ${consoleSignInHint(printedToken)}`,
      `  Admin API  ${api.url}/v1   (OpenAPI ${api.url}/openapi.json, Swagger UI ${api.url}/docs)`,
      `  Gateway    ${gateway.url}   (tenant MCP URLs: ${gateway.url}/t/<tenant>/mcp and /t/<tenant>/sse)`,
      `  Metrics    ${[gateway.metricsUrl && `gateway ${gateway.metricsUrl}`, api.metricsUrl && `API ${api.metricsUrl}`].filter(Boolean).join(', ') || 'off'}`,
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal} received, shutting down\n`);
    await close().catch((error: Error) => process.stderr.write(`${error.message}\n`));
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
