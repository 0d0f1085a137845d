/**
 * Faults while events flow. Each test ends with the same audit: every dashboard applied every event of the log in
 * the window exactly once, in order, and holds what the database holds.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { createPgDb } from '../../src/db/pg-db.ts'
import type { Db } from '../../src/db/types.ts'
import { appendEvent } from '../../src/repos/events.ts'
import { Dashboard, audit, dbOpenVersions, deafDb, logSeqs, maxSeq, report, sleep } from './support.ts'

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}

async function expectInStep(dashboards: Dashboard[], db: Db, from: number): Promise<void> {
  const last = await maxSeq(db)
  for (const d of dashboards) await d.reach(last, 15_000)
  const expected = await logSeqs(db, from, last)
  const open = await dbOpenVersions(db)
  for (const d of dashboards) {
    expect(audit(d.applied, expected)).toEqual({ lost: [], twice: [], outOfOrder: 0 })
    expect(d.openVersions()).toEqual(open)
  }
}

/** Reports `n` cases one after the other through `url`; returns the statuses. */
async function reports(url: string, n: number, what: string): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await report(url, `${what} ${i}`, i).catch(() => ({ status: 0 }))).status)
  return out
}

async function listenOn(db: Db, port: number): Promise<{ app: AppInstance; url: string }> {
  const app = await buildApp({ db, relayPollMs: 250, realtime: { retention: false } })
  await app.listen({ port, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

describe.each(DB_MODES)('faults (%s)', (mode) => {
  let db: Db
  const dashboards: Dashboard[] = []
  const wall = async (url: string) => {
    const d = new Dashboard({ reconnection: true })
    dashboards.push(d)
    await d.connect(url)
    return d
  }
  beforeAll(async () => {
    db = await testDb(mode)
  })
  afterAll(() => {
    for (const d of dashboards) d.disconnect()
  })

  it('a server restart with dashboards connected: they resume with no gap and no duplicate applied', async () => {
    const first = await listenOn(db, 0)
    const port = (first.app.server.address() as AddressInfo).port
    const ds = [await wall(first.url), await wall(first.url), await wall(first.url)]
    const from = Math.min(...ds.map((d) => d.position!))
    await reports(first.url, 5, 'before the restart')
    await first.app.close()
    // Down: others keep writing (another process on the same database).
    const other = await startServer({ db, realtime: { retention: false } })
    await reports(other.url, 10, 'while down')
    const again = await listenOn(db, port)
    try {
      await reports(again.url, 5, 'after the restart')
      await expectInStep(ds, db, from)
      for (const d of ds) expect(d.snapshots).toBe(1) // resumed from the log, no reload
    } finally {
      await again.app.close()
      await other.app.close()
    }
  })

  it('a relay whose LISTEN connection died silently still delivers, by polling', async () => {
    const deaf = await startServer({ db: deafDb(db), relayPollMs: 200, realtime: { retention: false } })
    try {
      const d = await wall(deaf.url)
      const from = d.position!
      const res = await report(deaf.url, 'nobody notified')
      expect(res.status).toBe(201)
      await expectInStep([d], db, from)
      expect(d.cases.has(res.body.id)).toBe(true)
    } finally {
      await deaf.app.close()
    }
  })

  it('an event larger than NOTIFY could carry (> 8,000 bytes) goes through', async () => {
    const s = await startServer({ db, realtime: { retention: false } })
    try {
      const d = await wall(s.url)
      // 2,000 characters (the most a description may have), 4 bytes each in UTF-8 for most of them.
      const description = '🚧'.repeat(1500) + '井盖缺失，请尽快处理。'.repeat(45)
      const address = '金华市婺城区城中街道'.repeat(30)
      const res = await fetch(`${s.url}/api/cases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ category: 'sanitation', description, address, lon: 119.65, lat: 29.08 }),
      })
      expect(res.status).toBe(201)
      const { id } = (await res.json()) as { id: string }
      const { rows } = await db.query<{ n: number }>(`SELECT octet_length(payload::text) AS n FROM events WHERE payload->'case'->>'id' = $1`, [id])
      expect(rows[0].n).toBeGreaterThan(8000)
      await d.reach(await maxSeq(db))
      expect(d.cases.get(id)?.description).toBe(description)
    } finally {
      await s.app.close()
    }
  })

  it('a dashboard that stops reading is set aside (bounded memory), then catches up from the log: nothing lost', async () => {
    const s = await startServer({ db, realtime: { retention: false, hub: { maxBacklog: 2 } } })
    try {
      const slow = await wall(s.url)
      const from = slow.position!
      // Stop reading from the socket: the kernel buffers fill, then the server's writes queue up.
      const tcp = (slow.socket!.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket
      tcp.pause()
      const pad = 'x'.repeat(200_000)
      for (let burst = 0; burst < 8; burst++) {
        await db.transaction(async (tx) => {
          for (let i = 0; i < 10; i++) await appendEvent(tx, 'test:bulk', null, { burst, i, pad })
        })
        await sleep(150) // one frame each
      }
      await until(() => s.app.realtime.hub.stats.lagging === 1, 'the socket set aside')
      tcp.resume()
      await expectInStep([slow], db, from)
    } finally {
      await s.app.close()
    }
  })

  it('two server processes on one database: a dashboard on B sees a case reported through A, and can switch', async () => {
    // In postgres mode each app has its own pool and its own LISTEN connection, as two processes would.
    const dbA = mode === 'postgres' ? createPgDb(inject('pgUrl')!) : db
    const dbB = mode === 'postgres' ? createPgDb(inject('pgUrl')!) : db
    const a = await startServer({ db: dbA, realtime: { retention: false } })
    const b = await startServer({ db: dbB, realtime: { retention: false } })
    try {
      const onB = await wall(b.url)
      const onA = await wall(a.url)
      const from = Math.min(onA.position!, onB.position!)
      const res = await report(a.url, 'reported through A')
      expect(res.status).toBe(201)
      await onB.reach(await maxSeq(db))
      expect(onB.cases.has(res.body.id)).toBe(true)
      // The dashboard on A moves to B (a balancer's choice), missing what happens while it moves.
      onA.disconnect()
      await reports(a.url, 5, 'while switching')
      await onA.connect(b.url)
      await reports(b.url, 3, 'on B')
      await expectInStep([onA, onB], db, from)
      expect(onA.snapshots).toBe(1)
    } finally {
      await a.app.close()
      await b.app.close()
      if (mode === 'postgres') {
        await dbA.close()
        await dbB.close()
      }
    }
  })
})

describe.runIf(DB_MODES.includes('postgres'))('faults of PostgreSQL connections and processes (postgres)', () => {
  let db: Db
  let admin: pg.Client
  const dashboards: Dashboard[] = []
  const children: ChildProcess[] = []
  beforeAll(async () => {
    db = await testDb('postgres')
    admin = new pg.Client({ connectionString: inject('pgUrl')! })
    await admin.connect()
  })
  afterAll(async () => {
    for (const d of dashboards) d.disconnect()
    for (const c of children) c.kill('SIGKILL')
    await admin.end()
  })

  it('pg_terminate_backend on every connection of the server while events flow: it stays up, reconnects, catches up, loses nothing', async () => {
    const appName = `gc_rt_kill_${process.pid}`
    const u = new URL(inject('pgUrl')!)
    u.searchParams.set('application_name', appName)
    const sdb = createPgDb(u.toString(), { onError: () => {} })
    // As main.ts runs it: the relay on a pool of its own.
    const rdb = createPgDb(u.toString(), { onError: () => {} })
    const s = await startServer({ db: sdb, relayPollMs: 250, realtime: { retention: false, db: rdb } })
    try {
      const ds = [new Dashboard({ reconnection: true }), new Dashboard({ reconnection: true })]
      dashboards.push(...ds)
      for (const d of ds) await d.connect(s.url)
      const from = Math.min(...ds.map((d) => d.position!))
      let writing = true
      const statuses: number[] = []
      // Two writers through the server under test, one straight into the database (the log moves on regardless).
      const writers = [0, 1].map(async (w) => {
        for (let i = 0; writing; i++) statuses.push((await report(s.url, `writer ${w} #${i}`, i).catch(() => ({ status: 0 }))).status)
      })
      const direct = (async () => {
        const other = await startServer({ db, realtime: { retention: false } })
        for (let i = 0; writing; i++) await report(other.url, `direct #${i}`, i)
        await other.app.close()
      })()
      let killed = 0
      for (let round = 0; round < 3; round++) {
        await sleep(400)
        const { rows } = await admin.query('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName])
        killed += rows[0].n
      }
      await sleep(1500) // the LISTEN connection comes back after 1 s; the poll covers the gap meanwhile
      writing = false
      await Promise.all([...writers, direct])
      expect(killed).toBeGreaterThanOrEqual(3)
      // Still serving: a report after the last kill goes through.
      expect((await report(s.url, 'after the kills')).status).toBe(201)
      expect(statuses.filter((x) => x === 201).length).toBeGreaterThan(0)
      await expectInStep(ds, db, from)
    } finally {
      await s.app.close()
      await rdb.close()
      await sdb.close()
    }
  })

  /** A real server process (child-server.ts); resolves with its port. */
  async function spawnServer(port: number): Promise<{ child: ChildProcess; port: number; url: string }> {
    const script = fileURLToPath(new URL('./child-server.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DATABASE_URL: inject('pgUrl')!, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    children.push(child)
    const got = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (b) => {
        out += String(b)
        const m = /\{"port":(\d+)\}/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (code) => reject(new Error(`child server exited with ${code}`)))
      setTimeout(() => reject(new Error('child server did not start in 30 s')), 30_000)
    })
    return { child, port: got, url: `http://127.0.0.1:${got}` }
  }

  it('a server process killed with SIGKILL and started again: dashboards resume with no gap and no duplicate', async () => {
    const first = await spawnServer(0)
    const ds = [new Dashboard({ reconnection: true }), new Dashboard({ reconnection: true })]
    dashboards.push(...ds)
    for (const d of ds) await d.connect(first.url)
    const from = Math.min(...ds.map((d) => d.position!))
    await reports(first.url, 5, 'before the crash')
    first.child.kill('SIGKILL')
    await new Promise((r) => first.child.once('exit', r))
    const other = await startServer({ db, realtime: { retention: false } })
    await reports(other.url, 10, 'while the process is gone')
    const second = await spawnServer(first.port)
    try {
      await reports(second.url, 5, 'after the restart')
      await expectInStep(ds, db, from)
      for (const d of ds) expect(d.snapshots).toBe(1)
    } finally {
      second.child.kill('SIGKILL')
      await other.app.close()
    }
  })
})
