import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The browser app lives in web/; the API serves its build, dist/web/, at /console/
// (apps/api/src/plugins/console.ts). dist/ itself holds the compiled Node side (tsconfig.build.json).
export default defineConfig({
  root: fileURLToPath(new URL("./web", import.meta.url)),
  base: "/console/",
  publicDir: "public",
  // No source maps and no inlined assets: every file is a separate same-origin response the CSP allows.
  build: {
    outDir: fileURLToPath(new URL("./dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
  },
  logLevel: "warn",
});
