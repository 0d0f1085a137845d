import type { ResetReason } from '../../../shared/protocol/events.ts'
import type { LogBounds } from '../repos/events.ts'

/**
 * Whether a client at seq `after` can catch up from the log as it stands: not when the events after it are pruned,
 * when it claims a position beyond the log's end, or when it is more than `maxReplay` behind — then it is told to
 * load a snapshot instead (the reason and the message of the `reset` answer). null: replay it.
 */
export function replayRefusal(
  after: number,
  bounds: LogBounds,
  maxReplay: number,
): { reason: ResetReason; message: string } | null {
  const reason: ResetReason | null =
    after < bounds.prunedThrough ? 'pruned' : after > bounds.head ? 'unknown_position' : bounds.head - after > maxReplay ? 'too_far_behind' : null
  if (!reason) return null
  return {
    reason,
    message:
      reason === 'pruned'
        ? `events after ${after} are no longer in the log (kept from ${bounds.prunedThrough + 1}): load a snapshot`
        : reason === 'unknown_position'
          ? `seq ${after} is beyond this log's end (${bounds.head}): load a snapshot`
          : `${bounds.head - after} events behind (more than ${maxReplay}): load a snapshot`,
  }
}
