import { describe, expect, it } from 'vitest'
import { parseSqlBlocks } from '../../src/db/sql-file.ts'

describe('parseSqlBlocks', () => {
  const text = `-- Header: what this file is for.

-- The shared points (a comment for the reader).
-- name: points
pts AS (SELECT 1 AS ord)

-- name: one
WITH {{points}}
SELECT ord
  -- dropped, so an include cannot comment out its line
  FROM pts WHERE ord = $1 -- kept: at the end of a line
`

  it('returns each listed block trimmed, whole-line comments dropped, includes expanded', () => {
    const q = parseSqlBlocks(text, ['one'])
    expect(q.one).toBe('WITH pts AS (SELECT 1 AS ord)\nSELECT ord\n  FROM pts WHERE ord = $1 -- kept: at the end of a line')
  })

  it('refuses a listed block the file lacks, and a block the module does not list', () => {
    expect(() => parseSqlBlocks(text, ['one', 'two'])).toThrow('no block named two')
    expect(() => parseSqlBlocks(`${text}\n-- name: stale\nSELECT 2`, ['one'])).toThrow('blocks not used by the module: stale')
  })

  it('refuses an unknown include, a loop, two blocks of one name and SQL before the first name', () => {
    expect(() => parseSqlBlocks('-- name: a\nSELECT {{b}}', ['a'])).toThrow('no block named b (included by a)')
    expect(() => parseSqlBlocks('-- name: a\n{{b}}\n-- name: b\n{{a}}', ['a'])).toThrow('a → b → a')
    expect(() => parseSqlBlocks('-- name: a\nSELECT 1\n-- name: a\nSELECT 2', ['a'])).toThrow('two blocks named a')
    expect(() => parseSqlBlocks('SELECT 0\n-- name: a\nSELECT 1', ['a'])).toThrow('before the first')
  })

  it('expands calls of the functions the module passes, with their arguments, and refuses unknown ones', () => {
    const macros = { areaM2: (g: string) => `ST_Area(${g}) * k`, uncovered: (a: string, b: string) => `ST_SymDifference(${a}, ${b})` }
    const q = parseSqlBlocks('-- name: a\nSELECT {{areaM2(c.geom)}}, {{ uncovered(p.geom, o.u) }} FROM t', ['a'], 'x.sql', macros)
    expect(q.a).toBe('SELECT ST_Area(c.geom) * k, ST_SymDifference(p.geom, o.u) FROM t')
    expect(() => parseSqlBlocks('-- name: a\nSELECT {{areaM3(g)}}', ['a'], 'x.sql', macros)).toThrow('calls areaM3(…), which the module does not provide')
  })

  it('refuses to include a block that ends in a comment (it would swallow the rest of the line)', () => {
    expect(() => parseSqlBlocks('-- name: a\nSELECT {{b}} FROM t\n-- name: b\nx -- note', ['a'])).toThrow('ends in a comment')
  })
})
