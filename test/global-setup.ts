import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { createScratchDatabase } from './support/scratch-db.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

declare module 'vitest' {
  export interface ProvidedContext {
    /** Scratch database on the server of DATABASE_URL, created for this run and dropped after it. */
    pgUrl: string | null
    /** Data directory of the run's embedded PostGIS. */
    embeddedDir: string
    /** The region build started when the run began (see earlyDataBuild), or null: the test builds itself. */
    dataBuild: EarlyDataBuild | null
  }
}

/** `npm run data:build` running beside the suites: its output folder, and where its exit code and stderr land. */
export interface EarlyDataBuild {
  out: string
  /** Written when the build has exited: its exit code (or the signal's name). */
  exitFile: string
  stderrFile: string
}

/**
 * data/scripts/build-region.test.ts rebuilds the region data (about 100 s of one core, in a child process) and compares
 * it byte for byte. Started here, it runs beside the suites before it, on the core they leave idle (most of them wait
 * on PostgreSQL or the browser), instead of alone. Only for a run that includes that test: the whole suite (no file
 * filters on the command line) or a filter naming it.
 */
function earlyDataBuild(): { build: EarlyDataBuild; stop: () => void } | null {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !a.endsWith('vitest') && !a.endsWith('vitest.mjs'))
  if (args.length > 0 && !args.some((a) => 'data/scripts/build-region.test.ts'.includes(a))) return null
  const dir = mkdtempSync(join(tmpdir(), 'gc-data-build-early-'))
  const build = { out: join(dir, 'out'), exitFile: join(dir, 'exit'), stderrFile: join(dir, 'stderr') }
  const child = spawn(process.execPath, ['--import', 'tsx', 'data/scripts/build-region.ts', '--out', build.out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr.pipe(createWriteStream(build.stderrFile))
  child.on('exit', (code, signal) => writeFileSync(build.exitFile, String(code ?? signal)))
  child.on('error', (err) => writeFileSync(build.exitFile, `spawn failed: ${err.message}`))
  return {
    build,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Once per `npm test`: a scratch PostgreSQL database when DATABASE_URL is set (the real PostGIS suites run there,
 * never on the database DATABASE_URL names) and a temporary data dir for the embedded one.
 */
export default async function setup(project: TestProject) {
  const embeddedDir = mkdtempSync(join(tmpdir(), 'gc-test-embedded-'))
  project.provide('embeddedDir', embeddedDir)
  const early = earlyDataBuild()
  project.provide('dataBuild', early?.build ?? null)

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
    early?.stop()
    rmSync(embeddedDir, { recursive: true, force: true })
  }
}
