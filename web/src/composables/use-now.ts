/**
 * One shared, reactive "now" that ticks once a second: the clock, relative times and the "new case" highlight
 * all read it, so the page runs a single timer however many components use it.
 */
import { readonly, ref } from 'vue'

const now = ref(Date.now())
let timer: ReturnType<typeof setInterval> | undefined
let users = 0

/** Starts the tick on first use; returns a read-only ref in epoch milliseconds. */
export function useNow() {
  if (users++ === 0) {
    now.value = Date.now()
    timer = setInterval(() => (now.value = Date.now()), 1000)
  }
  return readonly(now)
}

/** Optional counterpart for components that unmount (the wall itself never does). */
export function releaseNow(): void {
  if (--users <= 0 && timer) {
    clearInterval(timer)
    timer = undefined
    users = 0
  }
}
