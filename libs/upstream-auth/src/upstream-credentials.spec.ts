import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@switchboard/db';
import { UpstreamAuthorizationError } from '@switchboard/plugin-sdk';
import { SecretBox } from '@switchboard/secrets';
import { ConnectSeals } from './connect-seals';
import { UpstreamCredentialStore } from './upstream-credentials';

/**
 * The per-user accessor's binding rules, with a fake table (the refresh under a row lock and the
 * connect round trip run against Postgres in apps/gateway/test/upstream-oauth*.int-spec.ts).
 */
describe('UpstreamCredentialStore per-user accessor', () => {
  const key = randomBytes(32);
  const seals = new ConnectSeals({ current: key });
  const target = { tenantId: 't-1', tenantRef: 'acme', installationId: 'i-1', installation: 'crm', connectBase: 'https://gw.example.com/base' };
  let asked: unknown[];
  let written: unknown[];
  let rows: Map<string, { status: string; sealed: string | null; expiresAt: Date | null; lastError: string | null; pendingSealed: string | null; updatedAt: Date }>;
  const keyOf = (where: { tenantId_installationId_subject: { subject: string } }) => where.tenantId_installationId_subject.subject;
  const prisma = {
    upstreamCredential: {
      findUnique: async ({ where }: { where: { tenantId_installationId_subject: { subject: string } } }) => (asked.push(where), rows.get(keyOf(where)) ?? null),
      upsert: async (args: { where: { tenantId_installationId_subject: { subject: string } } }) => void written.push(args.where),
    },
  } as unknown as PrismaClient;
  const store = new UpstreamCredentialStore(prisma, new SecretBox({ current: key }), seals);

  beforeEach(() => {
    asked = [];
    written = [];
    rows = new Map();
  });

  it('looks up the credential of the calling person only, bound from the caller identity it was given', async () => {
    await store.personalAccessorFor(target, { subject: 'key:k-a', grantId: 'g-a' }).accessToken().catch(() => undefined);
    expect(asked).toEqual([{ tenantId_installationId_subject: { tenantId: 't-1', installationId: 'i-1', subject: 'key:k-a' } }, expect.anything()]);
    expect(asked.every((where) => keyOf(where as never) === 'key:k-a')).toBe(true);
  });

  it('answers an API-key caller with the no-person error and reads no credential at all (neither anyone\'s nor the shared one)', async () => {
    const accessor = store.personalAccessorFor(target, { subject: undefined, grantId: undefined });
    await expect(accessor.accessToken()).rejects.toThrow(UpstreamAuthorizationError);
    await expect(accessor.accessToken()).rejects.toThrow(/API key, which names no person/);
    expect(asked).toEqual([]);
    expect(written).toEqual([]);
    // Even with a shared credential connected, it is not used.
    rows.set('', { status: 'connected', sealed: 'x', expiresAt: null, lastError: null, pendingSealed: null, updatedAt: new Date() });
    await expect(accessor.accessToken()).rejects.toThrow(/names no person/);
    expect(asked).toEqual([]);
  });

  it('gives a person without a credential a connect link sealed for that person, under the public URL, with no token in it', async () => {
    const error = await store.personalAccessorFor(target, { subject: 'key:k-a', grantId: 'g-a' }).accessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamAuthorizationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Your upstream account for installation "crm" is not connected yet\. Open this link/);
    const link = new URL(/https:\/\/\S+/.exec(message)![0]);
    expect(`${link.origin}${link.pathname}`).toBe('https://gw.example.com/oauth/upstream/connect');
    expect(seals.openTicket(link.searchParams.get('ticket')!)).toMatchObject({ tenantId: 't-1', installationId: 'i-1', subject: 'key:k-a' });
    expect(written).toEqual([{ tenantId_installationId_subject: { tenantId: 't-1', installationId: 'i-1', subject: 'key:k-a' } }]);
  });

  it('keeps a connect under way at the upstream rather than voiding the link the person follows', async () => {
    rows.set('key:k-a', { status: 'pending', sealed: null, expiresAt: null, lastError: null, pendingSealed: 'sealed-pending', updatedAt: new Date() });
    const error = await store.personalAccessorFor(target, { subject: 'key:k-a', grantId: 'g-a' }).accessToken().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/A connect you started is waiting/);
    expect(written).toEqual([]);
  });

  it('says a link cannot be made when the gateway has no public URL', async () => {
    const error = await store.personalAccessorFor({ ...target, connectBase: undefined }, { subject: 'key:k-a', grantId: 'g-a' }).accessToken().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no public URL \(PUBLIC_GATEWAY_URL\)/);
    expect(written).toEqual([]);
  });

  it('keys each person\'s accessor apart, and apart from the shared one', () => {
    const a = store.personalAccessorFor(target, { subject: 'key:k-a', grantId: 'g-a' }).connectionKey;
    const b = store.personalAccessorFor(target, { subject: 'key:k-b', grantId: 'g-b' }).connectionKey;
    const shared = store.accessorFor({ ...target, subject: '' }).connectionKey;
    expect(new Set([a, b, shared]).size).toBe(3);
  });
});
