// plugd's own version, read from its package.json (from src/ or from dist/src/ alike).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function plugdVersion(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'plugd') return (cached = pkg.version ?? '0.0.0');
    }
    const up = path.dirname(dir);
    if (up === dir) return (cached = '0.0.0');
    dir = up;
  }
}
