// Worker-thread entry of bench/push-reporter.ts: a worker does not inherit the main thread's `--import tsx`.
import { register } from 'tsx/esm/api'

register()
await import('./push-reporter.ts')
