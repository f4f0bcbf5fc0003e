import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// What `docker compose up` would start, checked without a Docker engine. The same entry
// commands are started as processes by compose-topology.e2e-spec.ts.

const root = path.resolve(__dirname, '../../..');
// merge: compose's `<<: *anchor` keys, as docker compose resolves them.
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const envExample = readFileSync(path.join(root, '.env.example'), 'utf8');
const services: Record<string, Record<string, any>> = compose.services;

/** Secrets every production process needs; compose must refuse to start without them. */
const REQUIRED_SECRETS = ['ADMIN_JWT_SECRET', 'SECRETS_KEY', 'KEY_PEPPER', 'CLUSTER_SECRET'];
const SWITCHBOARD_SERVICES = ['migrate', 'api', 'gateway'];

describe('docker-compose.yml', () => {
  it('runs the production topology: postgres, redis, a one-shot migration, the API, gateways and a load balancer', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'migrate', 'api', 'gateway', 'lb']));
    expect(services.gateway.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(services.lb.ports).toEqual(['${PUBLIC_PORT:-8080}:8080']);
  });

  it('gives every long-running service a healthcheck', () => {
    for (const name of ['postgres', 'redis', 'api', 'gateway', 'lb']) {
      expect({ name, test: services[name].healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
    }
  });

  it('starts the apps only after the database is migrated and redis is healthy', () => {
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'gateway']) {
      expect(services[name].depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(services.migrate.restart).toBe('no');
  });

  it('runs the same entry commands as the npm scripts and the Dockerfile', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(services.api.command.join(' ')).toBe(pkg.scripts['start:api']);
    expect(services.gateway.command.join(' ')).toBe(pkg.scripts['start:gateway']);
    expect(services.migrate.command.join(' ')).toBe('node dist/apps/api/src/cli.js migrate');
  });

  it('gives every app the production variables, with secrets taken from .env and never written in', () => {
    for (const name of SWITCHBOARD_SERVICES) {
      const env: Record<string, string> = services[name].environment;
      expect(env.DATABASE_URL).toMatch(/^postgresql:\/\/.*@postgres:5432\//);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      for (const secret of REQUIRED_SECRETS) {
        expect({ name, secret, value: env[secret] }).toEqual({ name, secret, value: `\${${secret}:?set ${secret} in .env}` });
      }
    }
    expect(services.gateway.environment.GATEWAY_PORT).toBe('8080');
    expect(services.api.environment.API_PORT).toBe('3000');
  });

  it('lists every variable compose reads in .env.example', () => {
    const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    const used = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    const documented = new Set([...envExample.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
  });

  it('puts the load balancer in front of both the admin API and the gateways, round robin without stickiness', () => {
    const cfg = readFileSync(path.join(root, 'deploy/haproxy/haproxy.cfg'), 'utf8');
    expect(cfg).toMatch(/balance roundrobin/);
    expect(cfg).not.toMatch(/\bcookie\b|\bstick\b|balance source/);
    expect(cfg).toMatch(/timeout tunnel 1h/);
    expect(cfg).toMatch(/server-template gateway 1-\d+ "\$\{GATEWAY_ADDR\}"/);
    expect(services.lb.environment).toMatchObject({ API_ADDR: 'api:3000', GATEWAY_ADDR: 'gateway:8080' });
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

  it('builds in its own stage and runs as a non-root user on Node 22 slim with production dependencies only', () => {
    expect(dockerfile).toMatch(/FROM node:22-bookworm-slim AS build/);
    expect(dockerfile).toMatch(/FROM node:22-bookworm-slim AS runtime/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK .*\n?.*\/healthz/);
  });

  it('bakes no secret into the image', () => {
    for (const secret of [...REQUIRED_SECRETS, 'POSTGRES_PASSWORD', 'DATABASE_URL']) expect(dockerfile).not.toContain(secret);
    expect(readFileSync(path.join(root, '.dockerignore'), 'utf8')).toMatch(/^\.env$/m);
  });
});

describe('observability profile', () => {
  it('scrapes both metrics ports and provisions a dashboard whose every series the apps export', async () => {
    const { createMetricsRegistry } = await import('@switchboard/metrics');
    const exported = new Set<string>();
    for (const metrics of [createMetricsRegistry({ app: 'gateway', nodeId: 'n' }), createMetricsRegistry({ app: 'api', nodeId: 'n' })]) {
      for (const metric of await metrics.registry.getMetricsAsJSON()) exported.add(metric.name);
    }
    const dashboard = readFileSync(path.join(root, 'deploy/grafana/dashboards/switchboard.json'), 'utf8');
    const used = new Set([...dashboard.matchAll(/switchboard_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);

    const prometheus = readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    expect(prometheus).toMatch(/port: 9091/);
    expect(prometheus).toMatch(/port: 9092/);
    expect(services.prometheus.profiles).toEqual(['observability']);
    expect(services.grafana.profiles).toEqual(['observability']);
  });
});
