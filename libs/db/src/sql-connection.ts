/** The raw SQL surface the migrator needs, the same over pg and PGlite. */
export interface SqlConnection {
  /** Runs one or more statements (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}
