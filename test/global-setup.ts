import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'

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
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await admin.connect()
    const name = `gc_test_${Date.now()}_${process.pid}`
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = new URL(process.env.DATABASE_URL)
    url.pathname = `/${name}`
    pgUrl = url.toString()
    dropDb = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  } else {
    console.log('\n[test] DATABASE_URL is not set: integration suites run against embedded PostGIS only.\n')
  }
  project.provide('pgUrl', pgUrl)

  return async () => {
    await dropDb?.()
    rmSync(embeddedDir, { recursive: true, force: true })
  }
}
