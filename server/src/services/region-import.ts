/**
 * "Import your own boundaries": a GeoJSON FeatureCollection or a zipped Shapefile of regions (levels 1–5) checked
 * as a whole and written in ONE transaction — every problem is reported and nothing is written unless all pass.
 *
 * Order: read the file → field / structure checks (JS) → in the transaction: stage into a TEMP table, geometry
 * validity (and repair=true), parents and levels, then topology in SQL (inside parent, sibling overlaps, gaps) →
 * 422 with every problem, or write (history, insert, update, paths) + one `regions:imported` event.
 *
 * Rules (README.md › API):
 * - Topology is checked on the regions as they would be after the import: the file's features plus the current
 *   regions they touch (parents, siblings, children, former parents). Districts (level 1) are siblings of each other.
 * - Tolerance `toleranceM2` (default 1 m²): an overlap (per pair of siblings), the part of a child outside its parent
 *   (per child) or a gap (per uncovered piece) no larger is ignored — floating-point noise along shared edges.
 * - Gaps are checked for a parent when it is in the file, when the file holds every current child of it, or when the
 *   file changes the family of a parent its children covered before (the import may not open a gap). Not when a
 *   child of that parent failed another check, nor at all when a failed feature has no known parent (it could be the
 *   missing piece): a broken feature is reported once, not again as the gaps it leaves.
 * - repair=true: ST_MakeValid, polygons kept (ST_CollectionExtract(…, 3)), accepted when non-empty, valid and the
 *   area changes by at most max(toleranceM2, 0.1 %); otherwise the feature stays invalid.
 * - A region's level never changes. A changed region (geometry, name, parent, numbers, attributes) gets a new version:
 *   the old row goes to region_history (valid_to = the transaction's now()), the row in `regions` gets valid_from =
 *   now(); unchanged features are not written; regions below a moved one get their new path (and a version).
 */
import { regionResolver } from '../repos/resolve/resolver.ts'
import type { Db, Queryable } from '../db/types.ts'
import { appendEvent } from '../repos/events.ts'
import {
  acceptGeometries,
  existingRegions,
  geometryValidity,
  lockRegionImports,
  refuseRepairs,
  repairGeometries,
  stageFeatures,
} from '../repos/region-import/staging.ts'
import { buildFinalState, coveredBefore, gaps, locate, outsideParent, siblingOverlaps, touchedParents } from '../repos/region-import/topology.ts'
import { applyImport, classify } from '../repos/region-import/write.ts'
import { checkFeatures } from './region-import-check.ts'
import { readGeoJson, readZippedShapefile } from './region-import-read.ts'
import {
  DEFAULT_TOLERANCE_M2,
  REPAIR_AREA_TOLERANCE,
  type ImportOptions,
  type ImportProblem,
  type ImportReport,
  type ParsedFeature,
  type ReadResult,
} from './region-import-types.ts'

export type ImportSource = { kind: 'geojson'; data: unknown } | { kind: 'zip'; data: Uint8Array }

/** The import was refused: every problem found. Nothing was written. */
export class ImportInvalidError extends Error {
  readonly statusCode = 422
  readonly code = 'import_invalid'
  constructor(readonly problems: ImportProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} found: nothing was imported`)
    this.name = 'ImportInvalidError'
  }
}

export function readImportSource(source: ImportSource): ReadResult {
  return source.kind === 'zip' ? readZippedShapefile(source.data) : readGeoJson(source.data)
}

const round = (m2: number) => Math.round(m2 * 100) / 100
const fmt = (m2: number) => `${m2 >= 100 ? Math.round(m2).toLocaleString('en') : m2.toFixed(2)} m²`

/** File order: problems of the whole file first, then by feature, then those about regions not in the file. */
function sortProblems(problems: ImportProblem[]): ImportProblem[] {
  const rank = (p: ImportProblem) => p.index ?? (p.featureId === null ? -1 : Infinity)
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map(({ p }) => p)
}

/**
 * Checks and imports regions. Resolves with the counts (dryRun: what would happen, nothing written); rejects with
 * ImportInvalidError (422) listing every problem, or an HttpError 413 for too many features.
 */
export async function importRegions(db: Db, source: ImportSource, options: ImportOptions = {}): Promise<ImportReport> {
  const dryRun = options.dryRun ?? false
  const repair = options.repair ?? false
  const tolerance = options.toleranceM2 ?? DEFAULT_TOLERANCE_M2

  const read = readImportSource(source)
  const { features, problems } = checkFeatures(read.features, read.crsDeclared)
  problems.unshift(...read.problems)
  if (features.length === 0) {
    if (problems.length === 0) problems.push({ featureId: null, code: 'invalid_file', reason: 'the file holds no features' })
    throw new ImportInvalidError(problems)
  }

  const report = await db.transaction(async (tx) => {
    await lockRegionImports(tx)
    const all = sortProblems([...problems, ...(await checkInDatabase(tx, features, { repair, tolerance }))])
    if (all.length) throw new ImportInvalidError(all)

    const classified = await classify(tx)
    const count = (a: string) => classified.filter((c) => c.action === a).length
    const counts = { created: count('create'), updated: count('update'), unchanged: count('unchanged') }
    if (dryRun) return { dryRun, valid: true as const, ...counts, repathed: 0 }

    const { repathed } = await applyImport(tx)
    await appendEvent(tx, 'regions:imported', null, { ...counts, repathed, idCount: features.length })
    return { dryRun, valid: true as const, ...counts, repathed }
  })
  // Read-your-writes: this process's next lookup reads region_version instead of waiting for the NOTIFY.
  if (!report.dryRun) regionResolver(db).invalidate()
  return report
}

interface CheckOptions {
  repair: boolean
  tolerance: number
}

/** Everything that needs PostGIS or the current regions. Leaves region_import / region_import_final staged. */
async function checkInDatabase(tx: Queryable, features: ParsedFeature[], opts: CheckOptions): Promise<ImportProblem[]> {
  const problems: ImportProblem[] = []
  const byOrd = new Map(features.map((f) => [f.index, f]))
  const ok = new Set(features.filter((f) => f.ok).map((f) => f.index))
  const fail = (f: ParsedFeature, p: Omit<ImportProblem, 'featureId' | 'index'>) => {
    problems.push({ featureId: f.id, index: f.index, ...p })
    ok.delete(f.index)
  }

  await stageFeatures(
    tx,
    features.map((f) => ({
      ord: f.index,
      id: f.duplicate ? null : f.id,
      parent_id: f.parentId,
      level: f.level,
      name: f.name,
      households: f.households,
      population: f.population,
      attributes: f.attributes,
      geometry: f.geometry,
    })),
  )

  // Geometry validity (and repair).
  const invalid: number[] = []
  const valid: number[] = []
  for (const v of await geometryValidity(tx)) {
    if (v.valid) valid.push(v.ord)
    else {
      invalid.push(v.ord)
      if (!opts.repair) {
        fail(byOrd.get(v.ord)!, {
          field: 'geometry',
          code: 'invalid_geometry',
          reason: v.reason ?? 'PostGIS could not evaluate this geometry',
          ...(v.x !== null && v.y !== null ? { location: [v.x, v.y] as [number, number] } : {}),
        })
      }
    }
  }
  await acceptGeometries(tx, valid)
  if (opts.repair && invalid.length) {
    const refused: number[] = []
    for (const r of await repairGeometries(tx, invalid)) {
      const change = Math.abs(r.afterM2 - r.beforeM2)
      const kept = !r.empty && r.valid && change <= Math.max(opts.tolerance, REPAIR_AREA_TOLERANCE * r.beforeM2)
      if (kept) continue
      refused.push(r.ord)
      fail(byOrd.get(r.ord)!, {
        field: 'geometry',
        code: 'invalid_geometry',
        reason: r.empty
          ? 'invalid geometry, and ST_MakeValid leaves no polygon of it'
          : `invalid geometry that ST_MakeValid cannot repair without changing its area (${fmt(r.beforeM2)} → ${fmt(r.afterM2)})`,
      })
    }
    await refuseRepairs(tx, refused)
  }

  // Parents and levels: in the file (first feature with that id) or a current region in the database.
  const inFile = new Map<string, ParsedFeature>()
  for (const f of features) if (f.id && !f.duplicate) inFile.set(f.id, f)
  const lookup = [...new Set(features.flatMap((f) => [f.id, f.parentId]).filter((x): x is string => !!x))]
  const existing = await existingRegions(tx, lookup)
  for (const f of features) {
    if (f.id === null || f.level === null || f.duplicate) continue
    const before = existing.get(f.id)
    if (before && before.level !== f.level) {
      fail(f, {
        field: 'level',
        code: 'level_changed',
        reason: `region ${f.id} is level ${before.level} in the database; a region's level cannot change (import it under a new id)`,
      })
    }
    if (f.parentId === null) continue
    const parentLevel = inFile.get(f.parentId)?.level ?? null
    const parentDb = existing.get(f.parentId)
    if (!inFile.has(f.parentId) && (!parentDb || parentDb.retired)) {
      fail(f, {
        field: 'parentId',
        code: 'unknown_parent',
        reason: parentDb
          ? `parent ${f.parentId} is retired`
          : `parent ${f.parentId} is neither in the file nor a region in the database`,
        otherId: f.parentId,
      })
      continue
    }
    const pl = inFile.has(f.parentId) ? parentLevel : parentDb!.level
    if (pl !== null && f.level !== pl + 1) {
      fail(f, {
        field: 'level',
        code: 'level_mismatch',
        reason: `level ${f.level} under parent ${f.parentId} of level ${pl}: a child is one level below its parent (${pl + 1})`,
        otherId: f.parentId,
      })
    }
  }

  // Topology, among the features that passed everything so far and the current regions they touch.
  await buildFinalState(tx, [...ok])
  const indexOf = (id: string) => (inFile.has(id) ? { index: inFile.get(id)!.index } : {})

  const outside = (await outsideParent(tx)).filter((r) => r.outsideM2 > opts.tolerance)
  const outsideAt = await locate(tx, 'outside', outside.map((r) => [r.childId, r.parentId]))
  outside.forEach((r, i) => {
    const location = outsideAt[i] ? { location: outsideAt[i]! } : {}
    if (r.childImported) {
      problems.push({
        featureId: r.childId,
        ...indexOf(r.childId),
        field: 'geometry',
        code: 'outside_parent',
        reason: `${fmt(r.outsideM2)} of ${r.childId} lies outside its parent ${r.parentId}`,
        ...location,
        areaM2: round(r.outsideM2),
        otherId: r.parentId,
      })
    } else {
      problems.push({
        featureId: r.parentId,
        ...indexOf(r.parentId),
        field: 'geometry',
        code: 'outside_parent',
        reason: `the new boundary of ${r.parentId} leaves ${fmt(r.outsideM2)} of its existing child ${r.childId} outside`,
        ...location,
        areaM2: round(r.outsideM2),
        otherId: r.childId,
      })
    }
  })

  const overlaps = (await siblingOverlaps(tx)).filter((r) => r.overlapM2 > opts.tolerance)
  const overlapAt = await locate(tx, 'overlap', overlaps.map((r) => [r.aId, r.bId]))
  overlaps.forEach((r, i) => {
    const [featureId, otherId] = r.aImported ? [r.aId, r.bId] : [r.bId, r.aId]
    problems.push({
      featureId,
      ...indexOf(featureId),
      field: 'geometry',
      code: 'overlap',
      reason: `${featureId} and its sibling ${otherId} overlap by ${fmt(r.overlapM2)}`,
      ...(overlapAt[i] ? { location: overlapAt[i]! } : {}),
      areaM2: round(r.overlapM2),
      otherId,
    })
  })

  // A failed feature with no known place in the hierarchy might be the piece that fills any gap: then gaps are not
  // checked at all (they would only repeat its problem). A failed feature under a known parent skips that parent.
  const unplaced = features.some(
    (f) => !ok.has(f.index) && f.level !== 1 && (f.parentId === null || (!inFile.has(f.parentId) && !(existing.get(f.parentId) && !existing.get(f.parentId)!.retired))),
  )
  const alsoCheck = unplaced ? [] : await coveredBefore(tx, await touchedParents(tx), opts.tolerance)
  for (const g of unplaced ? [] : await gaps(tx, opts.tolerance, alsoCheck)) {
    for (const piece of g.gaps) {
      problems.push({
        featureId: g.parentId,
        ...indexOf(g.parentId),
        field: 'geometry',
        code: 'gap',
        reason: g.parentImported
          ? `the children of ${g.parentId} leave ${fmt(piece.m2)} of it uncovered`
          : `after this import the children of ${g.parentId} would leave ${fmt(piece.m2)} of it uncovered`,
        location: [piece.x, piece.y],
        areaM2: round(piece.m2),
      })
    }
  }
  return problems
}
