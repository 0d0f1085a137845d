import { readFileSync } from 'node:fs'

/**
 * Named SQL statements from a `.sql` file beside the repository that runs them, read once when the module loads:
 *
 *   -- The finest piece covering p.pt (a comment for the reader: whole-line comments are dropped).
 *   -- name: finestPart
 *   LEFT JOIN LATERAL (…) f ON true
 *
 *   -- name: resolveCurrent
 *   WITH {{points}}
 *   SELECT … FROM pts p {{finestPart}}
 *
 * A block runs from its `-- name:` line to the next one; `{{other}}` puts another block of the same file in its
 * place (shared pieces are written once), and `{{areaM2(c.geom)}}` the SQL that the module's function `areaM2`
 * writes for that argument (a formula kept once in code; arguments are plain expressions, comma-separated, without
 * parentheses). Everything is expanded at load time: the statements are constant strings. Whole-line `--` comments are dropped, so that an included piece cannot
 * comment out the rest of the line it lands in; a comment at the end of a line of SQL stays (and such a block cannot
 * be included). `names` lists every block the module uses: a block missing from the file, or one the module does
 * not list, throws at load time rather than at the first query.
 *
 * `url` is `new URL('./x.sql', import.meta.url)`: the server runs its TypeScript sources as they are (tsx, Vitest),
 * so the file is found beside the module without a build step.
 */
export function sqlBlocks<const N extends string>(url: URL, names: readonly N[], macros: SqlMacros = {}): Record<N, string> {
  return parseSqlBlocks(readFileSync(url, 'utf8'), names, url.pathname, macros)
}

/** SQL-writing functions a `.sql` file may call as `{{name(arg, …)}}`. */
export type SqlMacros = Record<string, (...args: string[]) => string>

const NAME_LINE = /^--\s*name:\s*(\S+)\s*$/
const INCLUDE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^(){}]*)\))?\s*\}\}/g

/** sqlBlocks on the text of a file (`source` names it in errors). */
export function parseSqlBlocks<const N extends string>(text: string, names: readonly N[], source = 'SQL', macros: SqlMacros = {}): Record<N, string> {
  const raw = new Map<string, string[]>()
  let current: string[] | null = null
  for (const line of text.split(/\r?\n/)) {
    const m = NAME_LINE.exec(line.trim())
    if (m) {
      if (raw.has(m[1])) throw new Error(`${source}: two blocks named ${m[1]}`)
      raw.set(m[1], (current = []))
    } else if (!line.trim().startsWith('--')) {
      if (current) current.push(line)
      else if (line.trim()) throw new Error(`${source}: SQL before the first "-- name:" line`)
    }
  }
  const done = new Map<string, string>()
  const expand = (name: string, via: string[]): string => {
    const known = done.get(name)
    if (known !== undefined) return known
    const lines = raw.get(name)
    if (!lines) throw new Error(`${source}: no block named ${name}${via.length ? ` (included by ${via.at(-1)})` : ''}`)
    if (via.includes(name)) throw new Error(`${source}: block ${name} includes itself (${[...via, name].join(' → ')})`)
    const sql = lines
      .join('\n')
      .trim()
      .replace(INCLUDE, (_, inner: string, args: string | undefined) => {
        if (args !== undefined) {
          const macro = Object.hasOwn(macros, inner) ? macros[inner] : undefined
          if (!macro) throw new Error(`${source}: block ${name} calls ${inner}(…), which the module does not provide`)
          return macro(...args.split(',').map((a) => a.trim()))
        }
        const piece = expand(inner, [...via, name])
        if (piece.split('\n').at(-1)!.includes('--')) throw new Error(`${source}: block ${inner} ends in a comment and cannot be included`)
        return piece
      })
    done.set(name, sql)
    return sql
  }
  const out = {} as Record<N, string>
  for (const n of names) out[n] = expand(n, [])
  const unused = [...raw.keys()].filter((k) => !done.has(k))
  if (unused.length) throw new Error(`${source}: blocks not used by the module: ${unused.join(', ')}`)
  return out
}
