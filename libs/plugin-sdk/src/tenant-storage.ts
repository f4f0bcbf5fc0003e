// Storage a plugin gets from the platform, already bound to the tenant of the call. There is no
// tenant parameter anywhere in this API on purpose: a plugin cannot ask for another tenant's data
// because it has no way to name another tenant. New kinds of storage are added here, reviewed
// once, rather than each plugin writing its own SQL.

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

export interface TenantStorage {
  notes: NoteStore;
}
