import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { csvCell } from '../../src/routes/api/exports.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { parseCsv } from '../../../test/support/csv.ts'

/** A point in 城东街道 (the grid of worker W000002). */
const AT = { lon: 119.644077, lat: 29.0709078 }

describe('csvCell', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell(null)).toBe('')
    expect(csvCell(3.5)).toBe('3.5')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"')
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvCell(f)).toBe(`'${f}`)
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`)
  })
})

describe.each(DB_MODES)('case exports (%s)', (mode) => {
  let app: AppInstance
  const tag = `导出测试-${Date.now()}`
  const ids: string[] = []
  beforeAll(async () => {
    app = await buildApp({ db: await testDb(mode) })
    await app.ready()
    for (const description of [`${tag} 路灯不亮`, `=${tag}, "引号" 与逗号\r\n第二行`]) {
      const res = await app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'public_facilities.street_light', description, address: '城东路 1 号', ...AT } })
      expect(res.statusCode, res.body).toBe(201)
      ids.push(res.json().id)
    }
  })
  afterAll(() => app.close())

  const since = () => new Date(Date.now() - 3600_000).toISOString()

  it('CSV: a BOM, Chinese headers, one row per case with its names and local times, text intact and defused', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/exports/cases?status=open&region=330702001&from=${since()}&limit=5000` })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="cases-\d{8}\.csv"; filename\*=UTF-8''/)
    expect(res.body.startsWith('\uFEFF')).toBe(true)
    const [header, ...rows] = parseCsv(res.body.slice(1))
    expect(header.slice(0, 4)).toEqual(['案件编号', '类别', '类别代码', '状态'])
    const list = (await app.inject({ method: 'GET', url: `/api/cases?status=open&region=330702001&from=${since()}&limit=5000` })).json().cases as Array<Record<string, any>>
    expect(rows.map((r) => r[0])).toEqual(list.map((c) => c.code))
    const mine = list.filter((c) => ids.includes(c.id))
    expect(mine).toHaveLength(2)
    for (const c of mine) {
      const row = rows.find((r) => r[0] === c.code)!
      const col = (name: string) => row[header.indexOf(name)]
      expect(col('类别代码')).toBe('public_facilities.street_light')
      expect(col('状态')).toBe('上报') // STATUS_NAMES.reported.zh
      expect(col('街道/乡镇')).toBe('城东街道')
      expect(col('地址')).toBe('城东路 1 号')
      // Reported time in Beijing time, to the second.
      expect(col('上报时间')).toBe(new Date(Date.parse(c.reportedAt) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '))
      expect(Number(col('经度'))).toBeCloseTo(AT.lon, 6)
      expect(col('描述')).toBe(c.description.startsWith('=') ? `'${c.description}` : c.description)
    }
  })

  it('CSV in English; GeoJSON points; x-next-offset when there is more than the limit', async () => {
    const en = await app.inject({ method: 'GET', url: `/api/exports/cases?lang=en&limit=1` })
    expect(parseCsv(en.body.slice(1))[0].slice(0, 4)).toEqual(['Code', 'Category', 'Category code', 'Status'])
    expect(en.headers['x-next-offset']).toBe('1')
    const geo = await app.inject({ method: 'GET', url: `/api/exports/cases?format=geojson&status=open&from=${since()}&limit=5000` })
    expect(geo.statusCode).toBe(200)
    expect(geo.headers['content-type']).toBe('application/geo+json; charset=utf-8')
    const fc = geo.json()
    expect(fc.type).toBe('FeatureCollection')
    const f = fc.features.find((x: any) => x.id === ids[0])
    expect(f.geometry.type).toBe('Point')
    expect(f.geometry.coordinates[0]).toBeCloseTo(AT.lon, 6)
    expect(f.properties).toMatchObject({ id: ids[0], status: 'reported', category: 'public_facilities.street_light' })
    expect(geo.headers['x-next-offset']).toBeUndefined()
  })

  it('bad input: 400 naming the field', async () => {
    for (const [q, field] of [
      ['format=xlsx', 'format'],
      ['lang=fr', 'lang'],
      ['limit=100001', 'limit'],
      ['status=lost', 'status'],
      ['colour=red', 'colour'],
    ]) {
      const res = await app.inject({ method: 'GET', url: `/api/exports/cases?${q}` })
      expect(res.statusCode, q).toBe(400)
      expect(JSON.stringify(res.json()), q).toContain(field)
    }
  })
})
