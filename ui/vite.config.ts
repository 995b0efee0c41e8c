// Builds the dashboard into app/ui/static, served by the service at /ui (committed: the
// service needs no Node at run time). Rebuild with `bash scripts/build_ui.sh`.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "../app/ui/static",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    modulePreload: { polyfill: false }, // no inline helper script: the CSP allows none
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/ws": { target: "ws://127.0.0.1:8000", ws: true }, "/openapi.json": "http://127.0.0.1:8000" } },
});
