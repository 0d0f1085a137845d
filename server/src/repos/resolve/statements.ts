import { sqlBlocks } from '../../db/sql-file.ts'

/** The statements of resolve.sql, shared by the SQL way (sql-fallback.ts) and the cell index's (resolver.ts, freshness.ts). */
export const RESOLVE_SQL = sqlBlocks(new URL('./resolve.sql', import.meta.url), [
  'resolveCurrent',
  'resolveAsOf',
  'regionVersion',
  'exactIds',
  'cellSource',
])
