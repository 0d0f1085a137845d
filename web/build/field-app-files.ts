/**
 * Which built files belong to the field app (web/m/index.html): its entry chunk and every chunk, stylesheet and asset
 * it imports, statically or lazily, plus its page and the public files under m/ (manifest, icons). The service
 * worker precaches exactly these (vite.config.ts), so a phone never downloads the wall's deck.gl or ECharts chunks
 * for the app to work offline. Read from the bundle graph Rolldown hands to `generateBundle`.
 */
import type { ManifestTransform } from 'workbox-build'
import type { Plugin } from 'vite'

const ENTRY = /[\\/]web[\\/]m[\\/]index\.html$/
const files = new Set<string>()

interface ChunkLike {
  type: 'chunk'
  fileName: string
  code: string
  isEntry: boolean
  facadeModuleId: string | null
  imports: string[]
  dynamicImports: string[]
  viteMetadata?: { importedCss: Set<string>; importedAssets: Set<string> }
}

export function fieldAppFiles(): Plugin {
  return {
    name: 'gridcommand:field-app-files',
    apply: 'build',
    generateBundle(_options, bundle) {
      files.clear()
      const chunks = new Map<string, ChunkLike>()
      for (const [name, item] of Object.entries(bundle)) if (item.type === 'chunk') chunks.set(name, item as unknown as ChunkLike)
      const entry = [...chunks.values()].find((c) => c.isEntry && c.facadeModuleId && ENTRY.test(c.facadeModuleId))
      if (!entry) throw new Error('field-app-files: no chunk for web/m/index.html in the bundle')
      const walk = (c: ChunkLike): void => {
        if (files.has(c.fileName)) return
        files.add(c.fileName)
        for (const css of c.viteMetadata?.importedCss ?? []) files.add(css)
        for (const asset of c.viteMetadata?.importedAssets ?? []) files.add(asset)
        for (const next of [...c.imports, ...c.dynamicImports]) {
          const n = chunks.get(next)
          if (n) walk(n)
        }
      }
      walk(entry)
      // Assets a chunk names by URL (`import url from '…?url'`, as MapLibre's worker) are not in its metadata: found
      // by their file names in the code.
      const assets = Object.values(bundle).filter((b) => b.type === 'asset').map((b) => b.fileName)
      for (const f of [...files]) {
        const code = chunks.get(f)?.code
        if (code) for (const a of assets) if (code.includes(a)) files.add(a)
      }
      files.add('m/index.html')
    },
  }
}

/** Workbox's manifest filtered to the field app's files, with absolute URLs (the worker lives at /m/sw.js). */
export const fieldAppPrecache: ManifestTransform = async (entries) => {
  if (files.size === 0) throw new Error('field-app-files: the bundle graph was not read (is fieldAppFiles() in the plugins?)')
  const manifest = entries.filter((e) => files.has(e.url) || e.url.startsWith('m/')).map((e) => ({ ...e, url: `/${e.url}` }))
  return { manifest, warnings: [] }
}

/** The files of the last build (the bundle budget bench reads them). */
export function fieldAppFileList(): string[] {
  return [...files].sort()
}
