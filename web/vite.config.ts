import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// The admin center builds into dist/web, which the Foyer server serves at `/`.
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  server: {
    // `npx vite web` during development: the API comes from a running `npm start`.
    proxy: Object.fromEntries(['/v1.0', '/redeem', '/signin', '/signout', '/my'].map((p) => [p, 'http://localhost:3000'])),
  },
});
