import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The browser app lives in web/; the API serves dist/ at /console/ (apps/api/src/plugins/console.ts).
export default defineConfig({
  root: fileURLToPath(new URL("./web", import.meta.url)),
  base: "/console/",
  publicDir: "public",
  // No source maps and no inlined assets: every file is a separate same-origin response the CSP allows.
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
  },
  logLevel: "warn",
});
