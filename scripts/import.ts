// `npm run import -- <file> [--dry-run] [--repair] [--tolerance-m2=N] [--json]`: imports a GeoJSON
// FeatureCollection (.geojson/.json) or a zipped Shapefile (.zip) of regions into the configured database
// (DATABASE_URL, else the embedded one under DATA_DIR — stop a server using that DATA_DIR first: the embedded
// database is single-process), through the same service as POST /api/regions/import. Prints the report; exit code
// 0 imported (or valid, with --dry-run), 1 problems found (nothing written), 2 usage or unreadable file.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../server/src/config.ts'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import type { Db } from '../server/src/db/types.ts'
import { HttpError } from '../server/src/services/http-error.ts'
import { importRegions, ImportInvalidError, type ImportSource } from '../server/src/services/region-import.ts'
import type { ImportOptions, ImportProblem } from '../server/src/services/region-import-types.ts'

const USAGE = 'usage: npm run import -- <file.geojson|file.json|file.zip> [--dry-run] [--repair] [--tolerance-m2=N] [--json]'

export interface ImportArgs extends ImportOptions {
  file: string
  json: boolean
}

export function parseImportArgs(args: string[]): ImportArgs | { error: string } {
  const out: ImportArgs = { file: '', json: false }
  for (const a of args) {
    if (a === '--dry-run') out.dryRun = true
    else if (a === '--repair') out.repair = true
    else if (a === '--json') out.json = true
    else if (a.startsWith('--tolerance-m2=')) {
      const n = Number(a.slice('--tolerance-m2='.length))
      if (!Number.isFinite(n) || n < 0) return { error: `--tolerance-m2 must be a number ≥ 0, got ${a}` }
      out.toleranceM2 = n
    } else if (a.startsWith('-')) return { error: `unknown option ${a}` }
    else if (out.file) return { error: `one file at a time (got ${out.file} and ${a})` }
    else out.file = a
  }
  return out.file ? out : { error: 'no file given' }
}

/** The file as an import source: a zip by its signature (PK\3\4) or extension, GeoJSON otherwise. */
export function readSource(file: string): ImportSource {
  const bytes = readFileSync(file)
  if (file.toLowerCase().endsWith('.zip') || (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) {
    return { kind: 'zip', data: bytes }
  }
  return { kind: 'geojson', data: JSON.parse(bytes.toString('utf8')) }
}

export function formatProblem(p: ImportProblem): string {
  const who = [p.index !== undefined ? `#${p.index}` : null, p.featureId ?? '(file)', p.field ? `[${p.field}]` : null].filter(Boolean).join(' ')
  const where = p.location ? ` at ${p.location[0].toFixed(6)},${p.location[1].toFixed(6)}` : ''
  return `  ${who} ${p.code}: ${p.reason}${where}`
}

export interface Output {
  out: (line: string) => void
  err: (line: string) => void
}

/**
 * Parses the arguments, reads the file, then connects (only then: a usage error needs no database), imports and
 * prints the report. Returns the exit code.
 */
export async function runImportCli(args: string[], io: Output, connect: () => Promise<Db>): Promise<number> {
  const parsed = parseImportArgs(args)
  if ('error' in parsed) {
    io.err(`${parsed.error}\n${USAGE}`)
    return 2
  }
  let source: ImportSource
  try {
    source = readSource(parsed.file)
  } catch (err) {
    io.err(`cannot read ${parsed.file}: ${(err as Error).message}`)
    return 2
  }
  const db = await connect()
  try {
    const report = await importRegions(db, source, parsed)
    if (parsed.json) io.out(JSON.stringify(report))
    else {
      const what = report.dryRun ? 'is valid (dry run: nothing written)' : 'imported'
      io.out(
        `✓ ${basename(parsed.file)} ${what}: ${report.created} created, ${report.updated} updated, ` +
          `${report.unchanged} unchanged, ${report.repathed} descendants re-pathed`,
      )
    }
    return 0
  } catch (err) {
    if (err instanceof ImportInvalidError) {
      if (parsed.json) io.out(JSON.stringify({ error: 'import_invalid', message: err.message, problems: err.problems }))
      else io.out([`✗ ${basename(parsed.file)}: ${err.message}`, ...err.problems.map(formatProblem)].join('\n'))
      return 1
    }
    if (err instanceof HttpError) {
      io.err(`✗ ${basename(parsed.file)}: ${err.message}`)
      return 1
    }
    throw err
  }
}

async function main(): Promise<void> {
  const config = loadConfig()
  let db: Db | undefined
  try {
    process.exitCode = await runImportCli(process.argv.slice(2), { out: console.log, err: console.error }, async () => {
      console.error(`[import] database: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostGIS in ${config.dataDir}`}`)
      db = await openDb(config)
      await migrate(db)
      return db
    })
  } finally {
    await db?.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`[import] failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
