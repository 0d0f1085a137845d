/**
 * The live link's state as the page shows it, and the page's position in the event log. Written only by
 * realtime/socket.ts.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

/** connecting: no link yet, or linked and catching up (snapshot, replay); online: live; offline: link lost. */
export type ConnectionState = 'connecting' | 'online' | 'offline'

export const useConnectionStore = defineStore('connection', () => {
  const state = ref<ConnectionState>('connecting')
  /**
   * Seq of the last event applied (or of the snapshot loaded): the page's state is the log up to here. Sent on
   * every reconnect (events:resume { after: lastSeq }); an event at or below it is a duplicate and is dropped.
   */
  const lastSeq = ref(0)
  /** False until a first snapshot gave the page a position. */
  const positioned = ref(false)
  /** Client ms of the last state change. */
  const since = ref(Date.now())
  /** How many times the link came back after being lost. */
  const reconnects = ref(0)
  const lastError = ref<string | null>(null)
  /** Events applied, duplicates dropped, snapshots reloaded because the server said reset. */
  const applied = ref(0)
  const duplicates = ref(0)
  const resets = ref(0)

  function setState(next: ConnectionState, err?: string): void {
    if (err !== undefined) lastError.value = err
    if (state.value === next) return
    state.value = next
    since.value = Date.now()
  }

  /** The position, exactly (after a snapshot it may go down: a reset to another log). */
  function setPosition(seq: number): void {
    lastSeq.value = seq
    positioned.value = true
  }

  /** Raises the position (never lowers it). */
  function noteSeq(seq: number): void {
    if (Number.isFinite(seq) && seq > lastSeq.value) lastSeq.value = seq
  }

  function noteReconnect(): void {
    reconnects.value++
  }

  function noteStats(s: { applied: number; duplicates: number; resets: number }): void {
    applied.value = s.applied
    duplicates.value = s.duplicates
    resets.value = s.resets
  }

  return {
    state, lastSeq, positioned, since, reconnects, lastError, applied, duplicates, resets,
    setState, setPosition, noteSeq, noteReconnect, noteStats,
  }
})
