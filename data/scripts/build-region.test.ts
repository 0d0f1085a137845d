import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, inject, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const GENERATED = join(ROOT, 'data/generated')

describe('npm run data:build', () => {
  it('regenerates data/generated/ byte-for-byte', async () => {
    // The whole suite started the build when it began (test/global-setup.ts): wait for it. Otherwise build here.
    const early = inject('dataBuild')
    const out = early?.out ?? mkdtempSync(join(tmpdir(), 'gc-data-build-'))
    try {
      if (early) {
        const until = Date.now() + 600_000
        while (!existsSync(early.exitFile) && Date.now() < until) await sleep(500)
        expect(existsSync(early.exitFile), 'the build finished within 10 minutes').toBe(true)
        expect(readFileSync(early.exitFile, 'utf8'), readFileSync(early.stderrFile, 'utf8')).toBe('0')
      } else {
        execFileSync(process.execPath, ['--import', 'tsx', 'data/scripts/build-region.ts', '--out', out], { cwd: ROOT, stdio: 'pipe', timeout: 600_000 })
      }
      const committed = readdirSync(GENERATED).sort()
      expect(readdirSync(out).sort()).toEqual(committed)
      for (const f of committed) expect(readFileSync(join(out, f)).equals(readFileSync(join(GENERATED, f))), f).toBe(true)
    } finally {
      if (!early) rmSync(out, { recursive: true, force: true })
    }
  }, 660_000)

  it('lists every generated file in MANIFEST.json with its sha256', async () => {
    const { createHash } = await import('node:crypto')
    const manifest = JSON.parse(readFileSync(join(GENERATED, 'MANIFEST.json'), 'utf8')) as { files: Record<string, { sha256: string }> }
    const files = readdirSync(GENERATED).filter((f) => f !== 'MANIFEST.json').sort()
    expect(Object.keys(manifest.files).sort()).toEqual(files)
    for (const f of files) expect(createHash('sha256').update(readFileSync(join(GENERATED, f))).digest('hex'), f).toBe(manifest.files[f].sha256)
  })
})
