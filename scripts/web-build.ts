import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'web/dist')
/** Written after a successful build; its mtime is compared with the newest input. */
const STAMP = join(DIST, '.build-stamp')
/** What the web build reads: a change in any of these makes the build stale. */
const INPUTS = ['web', 'shared', 'vite.config.ts', 'package-lock.json', 'tsconfig.json']

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules' || entry.startsWith('.')) continue
    newest = Math.max(newest, newestMtime(join(path, entry)))
  }
  return newest
}

export function webBuildIsStale(): boolean {
  if (!existsSync(STAMP) || !existsSync(join(DIST, 'index.html'))) return true
  const built = statSync(STAMP).mtimeMs
  return INPUTS.some((p) => newestMtime(join(ROOT, p)) > built)
}

/** Builds the web app into web/dist when the build is missing or older than its sources. */
export async function ensureWebBuild(log: (msg: string) => void = console.log): Promise<boolean> {
  if (!webBuildIsStale()) return false
  log('[gridcommand] building the web app (web/ → web/dist) …')
  const t0 = Date.now()
  const { build } = await import('vite')
  // Always a production build, also when called from the test runner (NODE_ENV=test): Vite takes
  // import.meta.env.PROD and Vue's production mode from NODE_ENV, and web/dist is what `npm start` serves too.
  const nodeEnv = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  try {
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', mode: 'production' })
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = nodeEnv
  }
  writeFileSync(STAMP, new Date().toISOString() + '\n')
  log(`[gridcommand] web app built in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return true
}
