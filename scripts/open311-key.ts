// `npm run open311-key -- issue <app name>` | `npm run open311-key -- revoke <key>`: issues an Open311 api_key to an
// app (printed once: only its SHA-256 is stored) or revokes one, in the configured database (DATABASE_URL, else the
// embedded one under DATA_DIR — stop a server using that DATA_DIR first). The same as POST /api/open311/keys.
// Exit code 0 done, 1 nothing to revoke, 2 usage.
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../server/src/config.ts'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import type { Db } from '../server/src/db/types.ts'
import { issueOpen311Key, revokeOpen311Key } from '../server/src/repos/open311-keys.ts'

const USAGE = 'usage: npm run open311-key -- issue <app name> | revoke <key>'

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2)
  const arg = rest.join(' ').trim()
  if ((cmd !== 'issue' && cmd !== 'revoke') || !arg || arg.length > 100) {
    console.error(USAGE)
    return 2
  }
  let db: Db | undefined
  try {
    db = await openDb(loadConfig())
    await migrate(db)
    if (cmd === 'issue') {
      console.log(await issueOpen311Key(db, arg))
      return 0
    }
    const revoked = await revokeOpen311Key(db, arg)
    console.log(revoked ? 'revoked' : 'no live key like that')
    return revoked ? 0 : 1
  } finally {
    await db?.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof Error ? err.message : err)
      process.exit(1)
    },
  )
}
