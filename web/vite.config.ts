// Vite builds the console into internal/ui/dist, which the Go package
// internal/ui embeds. Everything is bundled: no CDN, no web fonts, no inline
// script or style (the server's Content-Security-Policy forbids them).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../internal/ui/dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});
