// Builds the UI into ../server/ui/dist, which is committed and embedded in
// the weir binary (go:embed), so `go build` needs no Node. Paths are
// relative ("./assets/…") so the UI also works behind a path prefix.
import { defineConfig } from "vite";
import { sourceHashPlugin } from "./source-hash.js";

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../server/ui/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 200,
  },
  plugins: [sourceHashPlugin()],
});
