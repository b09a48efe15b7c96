/** What every database command takes. */
export interface DatabaseCommandOptions {
  /** Path to schema.prisma; its migrations are `<schema dir>/migrations`. */
  schemaPath: string;
  /** PostgreSQL URL of the database to work on. */
  url: string;
  /** Receives progress lines meant for people (no passwords in them). Silent when omitted. */
  log?: (line: string) => void;
}

/** The engine's schema filter: no externally managed tables or enums. */
export const NO_FILTER = { externalTables: [], externalEnums: [] };

export const silent = (): void => undefined;
