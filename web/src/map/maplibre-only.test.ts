import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * A MapLibre-only map (the dispatcher's, and the field app's to come) must not pull deck.gl into its bundle: what a
 * module imports for its value (not `import type`), followed through our own files, never reaches @deck.gl.
 */
const SRC = fileURLToPath(new URL('..', import.meta.url))

/** Value imports of a module's source: static, re-exports, side-effect and dynamic ones; `import type` left out. */
function valueImports(code: string): string[] {
  const out: string[] = []
  for (const m of code.matchAll(/^\s*(?:import|export)\s+(type\s)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)) if (!m[1]) out.push(m[2])
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1])
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1])
  return out
}

/** Every package reachable from `entry` (a path under web/src), with the chain of our files that leads to it. */
function packagesReachedFrom(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>()
  const seen = new Set<string>()
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const spec of valueImports(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
        if (!packages.has(name)) packages.set(name, [...chain, relative(SRC, file)])
        continue
      }
      const target = resolve(dirname(file), spec.replace(/\?.*$/, ''))
      if (['.ts', '.vue'].includes(extname(target)) && existsSync(target)) walk(target, [...chain, relative(SRC, file)])
    }
  }
  walk(resolve(SRC, entry), [])
  return packages
}

const deckIn = (packages: Map<string, string[]>) => [...packages].filter(([name]) => name === 'deck.gl' || name.startsWith('@deck.gl/'))

describe('MapLibre-only maps', () => {
  it.each([
    'map/map-controller.ts',
    'composables/use-map-controller.ts',
    'map/layer-events.ts',
    'map/dispatch-markers.ts',
    'map/layers/dispatch-map.ts',
    'components/dispatch/DispatchMap.vue',
  ])('%s never reaches deck.gl', (entry) => {
    const packages = packagesReachedFrom(entry)
    expect(deckIn(packages)).toEqual([])
  })

  it('sees deck.gl where a map does draw with it (the drill-down map)', () => {
    const packages = packagesReachedFrom('components/drill/DrillMap.vue')
    expect(deckIn(packages).map(([name]) => name)).toEqual(expect.arrayContaining(['@deck.gl/layers', '@deck.gl/mapbox']))
    expect(packages.get('@deck.gl/layers')).toEqual(['components/drill/DrillMap.vue', 'map/layers/drill-map.ts', 'map/layers/drill-labels.ts'])
  })

  it('reads value imports and leaves type imports out', () => {
    const code = [
      "import type { Layer } from '@deck.gl/core'",
      "import { type X, y } from './y.ts'",
      "import {\n  a,\n  b,\n} from 'pkg-a'",
      "export { c } from 'pkg-c'",
      "export type { D } from 'pkg-d'",
      "import 'side-effect.css'",
      "const lazy = () => import('./lazy.ts')",
    ].join('\n')
    expect(valueImports(code).sort()).toEqual(['./lazy.ts', './y.ts', 'pkg-a', 'pkg-c', 'side-effect.css'])
  })
})
