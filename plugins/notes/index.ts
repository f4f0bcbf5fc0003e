import { z } from 'zod';
import { definePlugin, defineTool, PluginNotFoundError, type ToolResult } from '@switchboard/plugin-sdk';
import { MAX_NOTE_BODY_LENGTH, MAX_NOTE_TAGS, MAX_NOTE_TITLE_LENGTH, notesOf, type Note } from './note-store';

/**
 * Tenant-scoped notes with full-text search. The example of tenant-isolated storage: every read
 * and write goes through `ctx.storage` (a NoteStore, see ./note-store.ts), which the gateway binds
 * to the caller's tenant and to this plugin, so this file never names a tenant and cannot reach
 * another tenant's notes.
 */
const noteUri = (id: string) => `note://${id}`;

function noteResult(note: Note): ToolResult {
  return {
    content: [{ type: 'text', text: `${note.title}\n\n${note.body}` }, { type: 'resource_link', uri: noteUri(note.id), name: note.title, mimeType: 'text/markdown' }],
    structuredContent: { note },
  };
}

function listResult(notes: Note[], empty: string): ToolResult {
  const lines = notes.map((n) => `- ${n.title} (${noteUri(n.id)})${n.tags.length ? ` [${n.tags.join(', ')}]` : ''}`);
  return { content: [{ type: 'text', text: lines.length ? lines.join('\n') : empty }], structuredContent: { notes } };
}

const notFound = (id: string): ToolResult => ({ content: [{ type: 'text', text: `No note with id ${id}` }], isError: true });
const limit = z.number().int().min(1).max(100).optional().describe('At most this many notes (default 20)');

export default definePlugin({
  name: 'notes',
  version: '1.0.0',
  description: 'Notes for the tenant: add, list, full-text search, read and delete. Each note is also a resource note://{id}.',
  tools: [
    defineTool({
      name: 'add',
      description: 'Stores a note and returns it with its id.',
      input: z.object({
        title: z.string().min(1).max(MAX_NOTE_TITLE_LENGTH),
        body: z.string().max(MAX_NOTE_BODY_LENGTH),
        tags: z.array(z.string().min(1).max(50)).max(MAX_NOTE_TAGS).optional(),
      }),
      // Not idempotent: a retried add stores a second note.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      handler: async (note, ctx) => noteResult(await notesOf(ctx).add(note)),
    }),
    defineTool({
      name: 'get',
      description: 'Returns one note by id.',
      input: z.object({ id: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: async ({ id }, ctx) => {
        const note = await notesOf(ctx).get(id);
        return note ? noteResult(note) : notFound(id);
      },
    }),
    defineTool({
      name: 'list',
      description: 'Lists notes, newest first, optionally only those with a tag.',
      input: z.object({ tag: z.string().optional(), limit }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: async (options, ctx) => listResult(await notesOf(ctx).list(options), 'No notes yet.'),
    }),
    defineTool({
      name: 'search',
      description: 'Full-text search over titles and bodies (web-search syntax: words, "exact phrase", -excluded, or).',
      input: z.object({ query: z.string().min(1).max(500), limit }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: async ({ query, limit }, ctx) => listResult(await notesOf(ctx).search(query, { limit }), `No note matches "${query}".`),
    }),
    defineTool({
      name: 'delete',
      description: 'Deletes a note by id.',
      input: z.object({ id: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      handler: async ({ id }, ctx) => ((await notesOf(ctx).delete(id)) ? `Deleted note ${id}` : notFound(id)),
    }),
  ],
  resourceTemplates: [
    {
      uriTemplate: 'note://{id}',
      name: 'note',
      description: 'A note as markdown',
      mimeType: 'text/markdown',
      read: async (uri, { id }, ctx) => {
        const note = await notesOf(ctx).get(id);
        if (!note) throw new PluginNotFoundError(`Resource not found: ${uri}`);
        return [{ uri, mimeType: 'text/markdown', text: `# ${note.title}\n\n${note.body}` }];
      },
      complete: {
        id: async (value, ctx) => (await notesOf(ctx).list({ limit: 100 })).map((n) => n.id).filter((id) => id.startsWith(value)),
      },
    },
  ],
});
