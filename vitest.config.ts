import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Interop and browser tests start processes; give them room, but unit tests stay fast.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
