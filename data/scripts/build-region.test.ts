import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const GENERATED = join(ROOT, 'data/generated')

describe('npm run data:build', () => {
  it('regenerates data/generated/ byte-for-byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'gc-data-build-'))
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'data/scripts/build-region.ts', '--out', out], { cwd: ROOT, stdio: 'pipe', timeout: 600_000 })
      const committed = readdirSync(GENERATED).sort()
      expect(readdirSync(out).sort()).toEqual(committed)
      for (const f of committed) expect(readFileSync(join(out, f)).equals(readFileSync(join(GENERATED, f))), f).toBe(true)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 600_000)

  it('lists every generated file in MANIFEST.json with its sha256', async () => {
    const { createHash } = await import('node:crypto')
    const manifest = JSON.parse(readFileSync(join(GENERATED, 'MANIFEST.json'), 'utf8')) as { files: Record<string, { sha256: string }> }
    const files = readdirSync(GENERATED).filter((f) => f !== 'MANIFEST.json').sort()
    expect(Object.keys(manifest.files).sort()).toEqual(files)
    for (const f of files) expect(createHash('sha256').update(readFileSync(join(GENERATED, f))).digest('hex'), f).toBe(manifest.files[f].sha256)
  })
})
