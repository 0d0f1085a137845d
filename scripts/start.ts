// `npm start`: build the web app if it is missing or stale, then run ONE server process (server/src/main.ts).
import { ensureWebBuild } from './web-build.ts'

await ensureWebBuild()
await import('../server/src/main.ts')
