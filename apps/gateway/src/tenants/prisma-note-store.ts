import { isUuid } from '@switchboard/config';
import type { PrismaClient } from '@switchboard/db';

// The store of the `notes` plugin on the platform's `notes` table. Its shape is the plugin's own
// (plugins/notes/note-store.ts, which the gateway may not import); these types are what this
// table stores, and apps/gateway/test/notes.int-spec.ts holds the two together.

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
  title: string;
  body: string;
  tags?: string[];
}

/** The `title` column is varchar(200). */
export const MAX_NOTE_TITLE_LENGTH = 200;
export const MAX_NOTE_BODY_LENGTH = 100_000;
export const MAX_NOTE_TAGS = 20;
export const DEFAULT_NOTE_LIST_LIMIT = 20;
export const MAX_NOTE_LIST_LIMIT = 100;

/** A note store input a plugin got wrong; the plugin shows it as a tool error. */
export class NoteInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteInputError';
  }
}

type NoteRow = { id: string; title: string; body: string; tags: string[]; createdAt: Date; updatedAt: Date };

/**
 * The notes of ONE tenant. The tenant id is fixed at construction by the gateway from the
 * session's credential, and every query below filters on it (by id too: looking up another
 * tenant's note id finds nothing, exactly like an id that does not exist).
 */
export class PrismaNoteStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenantId: string,
  ) {}

  async add(note: NewNote): Promise<Note> {
    const tags = note.tags ?? [];
    if (note.title.length === 0 || note.title.length > MAX_NOTE_TITLE_LENGTH) throw new NoteInputError(`title must be 1 to ${MAX_NOTE_TITLE_LENGTH} characters`);
    if (note.body.length > MAX_NOTE_BODY_LENGTH) throw new NoteInputError(`body must be at most ${MAX_NOTE_BODY_LENGTH} characters`);
    if (tags.length > MAX_NOTE_TAGS) throw new NoteInputError(`at most ${MAX_NOTE_TAGS} tags`);
    const row = await this.prisma.note.create({ data: { tenantId: this.tenantId, title: note.title, body: note.body, tags }, select: NOTE_FIELDS });
    return toNote(row);
  }

  async get(id: string): Promise<Note | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.prisma.note.findFirst({ where: { id, tenantId: this.tenantId }, select: NOTE_FIELDS });
    return row ? toNote(row) : undefined;
  }

  async list(options: { tag?: string; limit?: number } = {}): Promise<Note[]> {
    const rows = await this.prisma.note.findMany({
      where: { tenantId: this.tenantId, ...(options.tag ? { tags: { has: options.tag } } : {}) },
      orderBy: { createdAt: 'desc' },
      take: clampLimit(options.limit),
      select: NOTE_FIELDS,
    });
    return rows.map(toNote);
  }

  async search(query: string, options: { limit?: number } = {}): Promise<(Note & { rank: number })[]> {
    // Parameterised: the query text is a value, never SQL. websearch_to_tsquery accepts any
    // user text without syntax errors. The GIN index on "search" serves the @@ match.
    const rows = await this.prisma.$queryRaw<(NoteRow & { rank: number })[]>`
      SELECT id::text AS "id", title, body, tags, created_at AS "createdAt", updated_at AS "updatedAt",
             ts_rank(search, websearch_to_tsquery('english', ${query}))::float8 AS "rank"
        FROM notes
       WHERE tenant_id = ${this.tenantId}::uuid AND search @@ websearch_to_tsquery('english', ${query})
       ORDER BY rank DESC, created_at DESC
       LIMIT ${clampLimit(options.limit)}`;
    return rows.map((row) => ({ ...toNote(row), rank: Number(row.rank) }));
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.note.deleteMany({ where: { id, tenantId: this.tenantId } });
    return count > 0;
  }
}

const NOTE_FIELDS = { id: true, title: true, body: true, tags: true, createdAt: true, updatedAt: true } as const;

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? DEFAULT_NOTE_LIST_LIMIT), 1), MAX_NOTE_LIST_LIMIT);
}

function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    tags: row.tags,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
