// Test runner config (https://vitest.dev/config/). One worker process without isolation, so the expensive
// embedded PostGIS is started once per run and shared by every suite (see test/support/db.ts).
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'web/**/*.test.ts', 'scripts/**/*.test.ts', 'data/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
    fileParallelism: false,
    testTimeout: 30_000,
    // A page under load (a 2-core CI machine running servers and Chromium) can take seconds to show a change.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 180_000,
    reporters: ['default'],
  },
})
