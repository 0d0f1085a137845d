/**
 * A short sound and a vibration for what must reach a grid worker at once (a new task, a case sent back, a limit
 * close): where the browser allows it — a sound needs an earlier tap on the page (autoplay rules), vibration a
 * phone that has it. Nothing is fetched: the tone is made by Web Audio.
 */
let audio: AudioContext | null = null

/** Call from a tap (sign-in, the duty switch): browsers let a page play sound only after a user gesture. */
export function unlockSound(): void {
  try {
    audio ??= new AudioContext()
    void audio.resume()
  } catch {
    audio = null
  }
}

export function alertUser(kind: 'task' | 'warning'): void {
  try {
    navigator.vibrate?.(kind === 'task' ? [180, 80, 180] : [400])
  } catch {
    // not allowed here
  }
  if (!audio || audio.state !== 'running') return
  const t = audio.currentTime
  for (const [i, f] of (kind === 'task' ? [880, 1320] : [660]).entries()) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.frequency.value = f
    gain.gain.setValueAtTime(0.0001, t + i * 0.18)
    gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.18 + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16)
    osc.connect(gain).connect(audio.destination)
    osc.start(t + i * 0.18)
    osc.stop(t + i * 0.18 + 0.17)
  }
}
