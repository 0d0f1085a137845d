import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { createScratchDatabase } from './support/scratch-db.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Scratch database on the server of DATABASE_URL, created for this run and dropped after it. */
    pgUrl: string | null
    /** Data directory of the run's embedded PostGIS. */
    embeddedDir: string
  }
}

/**
 * Once per `npm test`: a scratch PostgreSQL database when DATABASE_URL is set (the real PostGIS suites run there,
 * never on the database DATABASE_URL names) and a temporary data dir for the embedded one.
 */
export default async function setup(project: TestProject) {
  const embeddedDir = mkdtempSync(join(tmpdir(), 'gc-test-embedded-'))
  project.provide('embeddedDir', embeddedDir)

  let pgUrl: string | null = null
  let dropDb: (() => Promise<void>) | undefined
  if (process.env.DATABASE_URL) {
    ;({ url: pgUrl, drop: dropDb } = await createScratchDatabase(process.env.DATABASE_URL, 'gc_test'))
  } else {
    console.log('\n[test] DATABASE_URL is not set: integration suites run against embedded PostGIS only.\n')
  }
  project.provide('pgUrl', pgUrl)

  return async () => {
    await dropDb?.()
    rmSync(embeddedDir, { recursive: true, force: true })
  }
}
