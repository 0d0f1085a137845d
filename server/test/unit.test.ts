import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { roomsFor } from '../src/realtime/relay.ts'

describe('loadConfig', () => {
  it('defaults to port 8080, embedded database in ./.data and the simulator on', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', databaseUrl: undefined, simulate: true })
    expect(c.dataDir).toMatch(/\.data$/)
  })
  it('reads PORT, HOST, DATABASE_URL, DATA_DIR and SIMULATE', () => {
    const c = loadConfig({ PORT: '9000', HOST: '127.0.0.1', DATABASE_URL: 'postgres://x/y', DATA_DIR: '/tmp/d', SIMULATE: '0' })
    expect(c).toMatchObject({ port: 9000, host: '127.0.0.1', databaseUrl: 'postgres://x/y', dataDir: '/tmp/d', simulate: false })
  })
  it('signs callers in by default (AUTH_MODE=token); dev-header only when asked', () => {
    expect(loadConfig({}).authMode).toBe('token')
    expect(loadConfig({ AUTH_MODE: 'dev-header' }).authMode).toBe('dev-header')
    expect(() => loadConfig({ AUTH_MODE: 'open' })).toThrow(/AUTH_MODE/)
  })
  it('refuses a PORT that is not a number', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
  })
  it('reads TRUST_PROXY: off by default, true, hops, or addresses and CIDRs; refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ TRUST_PROXY: 'off' }).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1)
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toBe('10.0.0.0/8,loopback')
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/)
  })
})

describe('roomsFor', () => {
  it('sends an event to the wall and to every region on its path', () => {
    expect(roomsFor({ regionPath: '330703.330703G0001' })).toEqual(['wall', 'region:330703', 'region:330703G0001'])
    expect(roomsFor({ regionPath: null })).toEqual(['wall'])
  })
})
