/**
 * Who uses the phone: the session's user (stores/session.ts, shared with the wall) or, when the app opens with no
 * network, the profile kept from the last session — so a grid worker in a basement still sees their tasks and can
 * queue reports; the refresh token restores the session as soon as the server answers.
 */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { REFRESH_TOKEN_KEY, useSessionStore, type SessionUser } from '../../stores/session.ts'

const KEPT_KEY = 'gridcommand.m.profile'

function readKept(): SessionUser | null {
  try {
    const raw = localStorage.getItem(KEPT_KEY)
    return raw ? (JSON.parse(raw) as SessionUser) : null
  } catch {
    return null
  }
}

export const useProfileStore = defineStore('profile', () => {
  const session = useSessionStore()
  const kept = ref<SessionUser | null>(readKept())
  const hasStoredSession = () => {
    try {
      return !!localStorage.getItem(REFRESH_TOKEN_KEY)
    } catch {
      return false
    }
  }
  /** A refresh token is in storage (a session from before, not yet restored or refused). */
  const stored = ref(hasStoredSession())
  watch(
    () => session.user,
    (u) => {
      stored.value = hasStoredSession()
      if (u) {
        kept.value = u
        localStorage.setItem(KEPT_KEY, JSON.stringify(u))
      } else if (!hasStoredSession()) {
        kept.value = null
        localStorage.removeItem(KEPT_KEY)
      }
    },
    { immediate: true },
  )
  /** The user the app is for (null: the sign-in page). */
  const user = computed(() => session.user ?? (stored.value ? kept.value : null))
  /** A session from before whose user this phone has not seen yet: wait for the server rather than ask to sign in. */
  const waiting = computed(() => !session.user && stored.value && !kept.value && !refused.value)
  const refused = ref(false)
  /** The stored session was refused (expired, revoked): the sign-in page after all. */
  function noSession(): void {
    refused.value = true
    stored.value = hasStoredSession()
  }
  /** Signed in from before but the server has not answered yet (offline start). */
  const offlineSession = computed(() => !session.user && user.value !== null)
  // A string: the inspector role is newer than some servers this app may meet.
  const role = computed(() => (user.value?.role ?? null) as string | null)
  const isWorker = computed(() => role.value === 'grid_worker')
  const verifies = computed(() => role.value === 'inspector' || role.value === 'leader' || role.value === 'admin')
  return { user, offlineSession, waiting, role, isWorker, verifies, noSession }
})
