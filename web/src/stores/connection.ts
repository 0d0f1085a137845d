/**
 * The live link's state as the page shows it. Written only by realtime/socket.ts.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

export type ConnectionState = 'connecting' | 'online' | 'offline'

export const useConnectionStore = defineStore('connection', () => {
  const state = ref<ConnectionState>('connecting')
  /** Highest event sequence number seen (0 = none yet); the replay-by-seq issue resumes from it. */
  const lastSeq = ref(0)
  /** Client ms of the last state change. */
  const since = ref(Date.now())
  /** How many times the link came back after being lost. */
  const reconnects = ref(0)
  const lastError = ref<string | null>(null)

  function setState(next: ConnectionState, err?: string): void {
    if (err !== undefined) lastError.value = err
    if (state.value === next) return
    state.value = next
    since.value = Date.now()
  }

  function noteSeq(seq: number): void {
    if (Number.isFinite(seq) && seq > lastSeq.value) lastSeq.value = seq
  }

  function noteReconnect(): void {
    reconnects.value++
  }

  return { state, lastSeq, since, reconnects, lastError, setState, noteSeq, noteReconnect }
})
