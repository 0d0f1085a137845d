import { CATEGORIES } from '../../../shared/domain/categories.ts'
import type { Db } from '../db/types.ts'
import { reportCase } from '../services/cases.ts'

/** What residents and grid workers typically report, per category family (demo text). */
const DESCRIPTIONS: Record<string, string[]> = {
  city_appearance: ['沿街店铺占道经营', '墙面乱张贴小广告', '广告牌破损悬挂'],
  sanitation: ['垃圾桶满溢未清运', '河道漂浮垃圾', '小区楼道堆放杂物'],
  public_facilities: ['路灯不亮', '窨井盖缺失', '供水管道破裂漏水', '人行道板松动'],
  safety_hazard: ['电梯困人', '楼道电动车充电', '燃气管道有异味', '危房外墙开裂'],
  dispute: ['邻里噪音纠纷', '物业费用纠纷', '房屋漏水邻里矛盾'],
  public_security: ['可疑人员徘徊', '夜间聚集喧哗'],
  traffic_parking: ['机动车违停占用消防通道', '共享单车乱停放', '交通信号灯故障'],
  livelihood: ['独居老人需要上门帮助', '代办社保业务咨询', '低保申请咨询'],
  flood_typhoon: ['地下通道积水', '低洼地段排水不畅'],
  epidemic: ['发热人员上报'],
  enterprise: ['企业用工问题反映', '企业用电报修'],
}

const RANDOM_POINT_IN_RANDOM_GRID = `
  WITH g AS (SELECT geom FROM regions WHERE level = 4 AND valid_to IS NULL ORDER BY random() LIMIT 1)
  SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM g, LATERAL ST_GeometryN(ST_GeneratePoints(g.geom, 1), 1) AS p`

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]

/** Minimal live feed: one case every `intervalMs` at a random point inside a random grid. */
export function startSimulator(db: Db, intervalMs: number, log: { error: (o: unknown, msg?: string) => void }) {
  let busy = false
  const tick = async () => {
    if (busy) return
    busy = true
    try {
      const { rows } = await db.query<{ lon: number; lat: number }>(RANDOM_POINT_IN_RANDOM_GRID)
      if (rows.length === 0) return
      const category = pick(CATEGORIES).code
      await reportCase(db, { category, description: pick(DESCRIPTIONS[category]), lon: rows[0].lon, lat: rows[0].lat }, { source: 'simulator', reporter: 'simulator' })
    } catch (err) {
      log.error(err, 'simulator tick failed')
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void tick(), intervalMs)
  return { stop: () => clearInterval(timer) }
}
