// Builds the web console (docs/console.md) into dist/console/, which the Control Center serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline script: the page's Content-Security-Policy has no 'unsafe-inline'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // protocol/crypto/webcrypto.ts loads base64url lazily for Node's sake; bundled here, that is moot.
    rolldownOptions: { checks: { ineffectiveDynamicImport: false } },
  },
});
