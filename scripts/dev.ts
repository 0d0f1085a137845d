// `npm run dev`: the server in watch mode on PORT (default 8080) and Vite's dev server with hot reload, which
// proxies /api and /socket.io to it (see vite.config.ts). Ctrl-C stops both.
import { spawn, type ChildProcess } from 'node:child_process'

const children: ChildProcess[] = []
function run(name: string, cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
  const prefix = (chunk: Buffer) =>
    chunk.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}`).join('\n') + '\n'
  child.stdout!.on('data', (c: Buffer) => process.stdout.write(prefix(c)))
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(prefix(c)))
  child.on('exit', (code) => {
    console.log(`[${name}] exited with ${code}`)
    stop(code ?? 0)
  })
  children.push(child)
}

let stopping = false
function stop(code: number) {
  if (stopping) return
  stopping = true
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT')
  setTimeout(() => process.exit(code), 3000).unref()
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

run('server', process.execPath, ['--import', 'tsx', '--watch', '--watch-preserve-output', 'server/src/main.ts'])
run('web', process.execPath, ['node_modules/vite/bin/vite.js', '--host'])
