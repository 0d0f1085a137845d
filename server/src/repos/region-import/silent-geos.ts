/**
 * The embedded PGlite 0.5.8 turns a GEOS exception into an EMPTY RESULT instead of an error (seen with
 * ST_Difference and with ST_IsValidReason on an unclosed ring): every query of the import that calls GEOS returns
 * one row per candidate, and its row count is compared with a GEOS-free count of the candidates (`expectRows`).
 */
export class SilentGeosFailure extends Error {
  constructor(what: string, expected: number, got: number) {
    super(`${what}: PostGIS returned ${got} rows for ${expected} candidates (a GEOS error swallowed by the embedded database?)`)
    this.name = 'SilentGeosFailure'
  }
}

export function expectRows<T>(rows: T[], expected: number, what: string): T[] {
  if (rows.length !== expected) throw new SilentGeosFailure(what, expected, rows.length)
  return rows
}
