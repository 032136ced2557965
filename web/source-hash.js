// Writes SOURCES.sha256 (sha256sum format) into the build output: the
// hash of every file the bundle is built from. A Go test
// (server/ui/dist_test.go) hashes the same files and fails when the
// committed dist/ was not rebuilt after a change to web/.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const roots = ["index.html", "package.json", "package-lock.json", "vite.config.js", "source-hash.js", "src"];

function walk(dir, base, out) {
  const st = statSync(join(base, dir));
  if (!st.isDirectory()) {
    out.push(dir);
    return;
  }
  for (const name of readdirSync(join(base, dir))) walk(dir + "/" + name, base, out);
}

export function sourceListing(base) {
  const files = [];
  for (const r of roots) walk(r, base, files);
  files.sort();
  return files
    .map((f) => createHash("sha256").update(readFileSync(join(base, f))).digest("hex") + "  " + f + "\n")
    .join("");
}

export function sourceHashPlugin() {
  return {
    name: "weir-source-hash",
    generateBundle() {
      const base = relative(process.cwd(), new URL(".", import.meta.url).pathname) || ".";
      this.emitFile({ type: "asset", fileName: "SOURCES.sha256", source: sourceListing(base) });
    },
  };
}
