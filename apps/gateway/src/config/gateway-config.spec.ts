import path from 'node:path';
import { ConfigError } from '@switchboard/config';
import { DEFAULT_MAX_BODY_BYTES, loadGatewayConfig } from './gateway-config';

describe('loadGatewayConfig', () => {
  it('applies the documented defaults with an empty environment (embedded mode)', () => {
    const config = loadGatewayConfig({});
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080, publicUrl: undefined, allowedOrigins: [], maxBodyBytes: DEFAULT_MAX_BODY_BYTES });
    expect(config.database).toEqual({ url: undefined, dataDir: path.resolve('./.data') });
    expect(config.cluster).toBeUndefined();
    expect(config.secrets.allowGenerate).toBe(true);
    expect(config.nodeId).toMatch(/^gw-[0-9a-f]{8}$/);
    expect(config.plugins).toMatchObject({ dir: undefined, packages: [] });
  });

  it('requires CLUSTER_SECRET with REDIS_URL, and only then', () => {
    expect(() => loadGatewayConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/CLUSTER_SECRET: required with REDIS_URL/);
    const secret = Buffer.alloc(32, 9);
    expect(loadGatewayConfig({ REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: secret.toString('base64'), REDIS_PREFIX: 'test' }).cluster).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      secret,
      prefix: 'test',
      forwardTimeoutMs: 10_000,
    });
    expect(loadGatewayConfig({ CLUSTER_SECRET: secret.toString('base64') }).cluster).toBeUndefined();
  });

  it('generates secrets only for the embedded database, and only when allowed', () => {
    expect(loadGatewayConfig({ GENERATE_SECRETS: 'false' }).secrets.allowGenerate).toBe(false);
    expect(loadGatewayConfig({ DATABASE_URL: 'postgresql://db/switchboard' }).secrets.allowGenerate).toBe(false);
  });

  it('names every wrong variable, shared or its own', () => {
    try {
      loadGatewayConfig({ NODE_ID: 'gw 1', GATEWAY_PORT: '70000', SECRETS_KEY: 'nope', SSE_KEEPALIVE_MS: '-1' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['GATEWAY_PORT', 'NODE_ID', 'SECRETS_KEY', 'SSE_KEEPALIVE_MS']);
      expect((error as Error).message).toMatch(/NODE_ID: letters, digits, _ \. - only \(at most 64\)/);
    }
  });

  it('turns tracing on only with an OTLP endpoint, from the standard OTEL_* variables', () => {
    expect(loadGatewayConfig({}).tracing).toBeUndefined();
    expect(loadGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'switchboard-gateway',
      sampleRatio: 1,
    });
    const traced = loadGatewayConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://vendor.example/otlp/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D,x-team = core',
      OTEL_SERVICE_NAME: 'edge',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(traced).toEqual({ tracesUrl: 'https://vendor.example/otlp/traces', headers: { 'x-api-key': 'abc=', 'x-team': 'core' }, serviceName: 'edge', sampleRatio: 0.25 });
  });

  it('lingers usage events 250 ms by default, takes 0 for no linger, and refuses a negative one naming the variable', () => {
    expect(loadGatewayConfig({}).usage.flushIntervalMs).toBe(250);
    expect(loadGatewayConfig({ USAGE_FLUSH_INTERVAL_MS: '0' }).usage.flushIntervalMs).toBe(0);
    expect(() => loadGatewayConfig({ USAGE_FLUSH_INTERVAL_MS: '-5' })).toThrow(/USAGE_FLUSH_INTERVAL_MS/);
  });

  it('refuses an OTLP protocol the exporter does not speak', () => {
    expect(() => loadGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});
