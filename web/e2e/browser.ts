import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/**
 * The browser of the e2e suites: Debian's Chromium (apt-get install chromium), never a downloaded one. Without it
 * the suites are skipped with a loud warning, or fail when GC_REQUIRE_BROWSER=1 (CI).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const HAVE_BROWSER = existsSync(CHROMIUM)
/** Screenshots land here (look at them before calling a screen done). */
export const ARTIFACTS = new URL('../../artifacts/e2e/', import.meta.url).pathname

if (!HAVE_BROWSER) {
  const msg = `Chromium not found at ${CHROMIUM}: the browser suite is SKIPPED (apt-get install chromium fonts-noto-cjk).`
  if (process.env.GC_REQUIRE_BROWSER === '1') throw new Error(`${msg} GC_REQUIRE_BROWSER=1 makes this a failure.`)
  console.warn(`\n${'!'.repeat(100)}\n!! ${msg}\n${'!'.repeat(100)}\n`)
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
]

/** Headless Chromium with software WebGL (the map needs it); the artifacts folder exists afterwards. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}
