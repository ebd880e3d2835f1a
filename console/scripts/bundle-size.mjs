// The first load's JavaScript, compressed: every script index.html loads (and what it
// preloads), gzip level 9 as a server would send it. Fails above the budget (issue 18:
// under 250 KB).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 250 * 1024;
const dist = process.argv[2] ?? "dist";
const page = await readFile(join(dist, "index.html"), "utf8");
const scripts = [...page.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/([^"]+\.js)"/g)].map(
  (match) => match[1],
);
let total = 0;
for (const script of scripts) {
  const size = gzipSync(await readFile(join(dist, script)), { level: 9 }).length;
  total += size;
  console.log(`${script}: ${(size / 1024).toFixed(1)} KB gzip`);
}
console.log(
  `first load: ${(total / 1024).toFixed(1)} KB of compressed JavaScript (budget ${BUDGET_BYTES / 1024} KB)`,
);
if (scripts.length === 0 || total > BUDGET_BYTES) {
  console.error(scripts.length === 0 ? "index.html loads no script" : "over the budget");
  process.exit(1);
}
