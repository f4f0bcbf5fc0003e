import type { PluginContext } from '@switchboard/plugin-sdk';

// The notes plugin's storage, declared by the plugin that uses it: the SDK knows no notes. The
// gateway implements it on its `notes` table (apps/gateway/src/tenants/prisma-note-store.ts)
// and binds it to this plugin and the caller's tenant as `ctx.storage`.

export interface Note {
  id: string;
  title: string;
  body: string;
  tags: string[];
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export interface NewNote {
  /** At most MAX_NOTE_TITLE_LENGTH characters. */
  title: string;
  /** At most MAX_NOTE_BODY_LENGTH characters. */
  body: string;
  tags?: string[];
}

// What the tools accept. The gateway's store refuses more on its own (the title column is
// varchar(200)), so these may be lowered here but not raised without the store.
export const MAX_NOTE_TITLE_LENGTH = 200;
export const MAX_NOTE_BODY_LENGTH = 100_000;
export const MAX_NOTE_TAGS = 20;

/** The tenant's notes, searchable with Postgres full-text search. */
export interface NoteStore {
  add(note: NewNote): Promise<Note>;
  /** undefined when no note of this tenant has this id (another tenant's id looks the same). */
  get(id: string): Promise<Note | undefined>;
  /** Newest first. */
  list(options?: { tag?: string; limit?: number }): Promise<Note[]>;
  /** Web-search syntax (`"exact phrase" -excluded or`), best match first. */
  search(query: string, options?: { limit?: number }): Promise<(Note & { rank: number })[]>;
  /** false when no note of this tenant has this id. */
  delete(id: string): Promise<boolean>;
}

/** The call's note store; a platform that keeps no notes for this plugin is an error, not a crash. */
export function notesOf(ctx: Pick<PluginContext<unknown>, 'storage'>): NoteStore {
  const store = ctx.storage as Partial<NoteStore> | undefined;
  if (typeof store?.add !== 'function') throw new Error('This platform provides no note storage for the notes plugin');
  return store as NoteStore;
}
