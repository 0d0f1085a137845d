/**
 * Real-time delivery in one server process: the relay (event log → released events), the frame hub (events →
 * sockets, replay on resume) and the retention job. See server/README.md, "Real-time".
 */
import type { Db } from '../db/types.ts'
import { FrameHub, type HubOptions } from './hub.ts'
import { startRelay, type Relay, type RelayOptions } from './relay.ts'
import { DEFAULT_RETENTION, startRetention, type RetentionJob, type RetentionOptions } from './retention.ts'
import type { GcServer, PersonalChannel, SubscribePolicy } from './socket-server.ts'
import { handleStreamCommands } from './stream-commands.ts'

export interface RealtimeOptions {
  /**
   * Where the relay and the replays read the log (and LISTEN). Default: the app's database. main.ts gives them a
   * pool of their own on PostgreSQL, so that delivery never queues behind the writes it reports on.
   */
  db?: Db
  policy?: SubscribePolicy
  /** Whose personal channel (scope.mine) a socket follows; default: none (refused). */
  personal?: PersonalChannel
  relay?: RelayOptions
  hub?: HubOptions
  /** false: no pruning in this process. */
  retention?: Partial<RetentionOptions> | false
  onError?: (err: unknown) => void
  onWarn?: (msg: string) => void
}

export interface Realtime {
  relay: Relay
  hub: FrameHub
  retention: RetentionJob | undefined
  stop(): Promise<void>
}

export async function startRealtime(appDb: Db, io: GcServer, opts: RealtimeOptions = {}): Promise<Realtime> {
  const db = opts.db ?? appDb
  const onError = opts.onError ?? ((err: unknown) => console.error('[realtime]', err))
  const hub = new FrameHub(io, db, { onError, ...opts.hub })
  handleStreamCommands(io, hub, opts.policy, opts.personal)
  const relay = await startRelay(db, hub, { onError, onWarn: opts.onWarn, ...opts.relay })
  hub.attach(relay)
  const retention = opts.retention === false ? undefined : startRetention(db, { ...DEFAULT_RETENTION, ...opts.retention }, { onError })
  return {
    relay,
    hub,
    retention,
    async stop() {
      await retention?.stop()
      await relay.stop()
      hub.stop()
    },
  }
}
