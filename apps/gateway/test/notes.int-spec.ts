import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, disconnect, startHarness, type GatewayHarness } from './gateway-harness';

type Note = { id: string; title: string; body: string };
const noteOf = (result: unknown) => (result as CallToolResult).structuredContent!['note'] as Note;
const notesOf = (result: unknown) => (result as CallToolResult).structuredContent!['notes'] as Note[];

describe('notes plugin through the gateway', () => {
  let h: GatewayHarness;
  let alice: Client;
  let mallory: Client;
  let secretNote: Note;

  beforeAll(async () => {
    h = await startHarness('notes');
    for (const slug of ['acme', 'evil']) {
      const tenant = await h.createTenant(slug);
      await h.install(tenant.id, 'notes');
      const { token } = await h.issueKey(tenant.id);
      const client = await connectClient(h.gateway.url, `/t/${slug}`, token, 'streamable-http');
      if (slug === 'acme') alice = client;
      else mallory = client;
    }
    secretNote = noteOf(await alice.callTool({ name: 'notes__add', arguments: { title: 'Merger plans', body: 'We acquire Globex in March', tags: ['board'] } }));
    await alice.callTool({ name: 'notes__add', arguments: { title: 'Lunch', body: 'Pizza on Friday' } });
  });
  afterAll(async () => {
    await disconnect(alice);
    await disconnect(mallory);
    await h.close();
  });

  it('adds, gets, lists newest first, and filters by tag', async () => {
    expect(noteOf(await alice.callTool({ name: 'notes__get', arguments: { id: secretNote.id } }))).toMatchObject({ title: 'Merger plans' });
    expect(notesOf(await alice.callTool({ name: 'notes__list', arguments: {} })).map((n) => n.title)).toEqual(['Lunch', 'Merger plans']);
    expect(notesOf(await alice.callTool({ name: 'notes__list', arguments: { tag: 'board' } })).map((n) => n.title)).toEqual(['Merger plans']);
  });

  it('searches with Postgres full-text search (stemming, web-search syntax)', async () => {
    expect(notesOf(await alice.callTool({ name: 'notes__search', arguments: { query: 'acquiring globex' } })).map((n) => n.title)).toEqual(['Merger plans']);
    expect(notesOf(await alice.callTool({ name: 'notes__search', arguments: { query: 'friday -pizza' } }))).toEqual([]);
    // Syntax characters are search text, never SQL or a tsquery error.
    expect((await alice.callTool({ name: 'notes__search', arguments: { query: "'); DROP TABLE notes; --" } })).isError).toBeFalsy();
  });

  it('serves a note as the resource note://{id}', async () => {
    const read = await alice.readResource({ uri: `note://${secretNote.id}` });
    expect(read.contents[0]).toMatchObject({ mimeType: 'text/markdown', text: '# Merger plans\n\nWe acquire Globex in March' });
  });

  it('does not let another tenant get, search, list, read or delete a note, even by its id', async () => {
    const got = await mallory.callTool({ name: 'notes__get', arguments: { id: secretNote.id } });
    expect(got).toMatchObject({ isError: true, content: [{ text: `No note with id ${secretNote.id}` }] });
    expect(notesOf(await mallory.callTool({ name: 'notes__search', arguments: { query: 'globex' } }))).toEqual([]);
    expect(notesOf(await mallory.callTool({ name: 'notes__list', arguments: {} }))).toEqual([]);
    await expect(mallory.readResource({ uri: `note://${secretNote.id}` })).rejects.toThrow(/Resource not found/);
    expect((await mallory.callTool({ name: 'notes__delete', arguments: { id: secretNote.id } })).isError).toBe(true);
    // Still there for its owner.
    expect(noteOf(await alice.callTool({ name: 'notes__get', arguments: { id: secretNote.id } })).id).toBe(secretNote.id);
  });

  it('deletes a note for its owner', async () => {
    expect((await alice.callTool({ name: 'notes__delete', arguments: { id: secretNote.id } })).isError).toBeFalsy();
    expect((await alice.callTool({ name: 'notes__get', arguments: { id: secretNote.id } })).isError).toBe(true);
  });
});
