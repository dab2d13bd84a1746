// Reads the Prometheus text format the daemon serves, for `plugd top`.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return samples;
}

/** Sum of a metric's samples per plugin label. */
export function perPlugin(
  samples: Sample[],
  name: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name || !where(s.labels) || s.labels.plugin === undefined) continue;
    sums.set(s.labels.plugin, (sums.get(s.labels.plugin) ?? 0) + s.value);
  }
  return sums;
}

/** A histogram's cumulative buckets of one plugin, as [upper bound, count] sorted by bound. */
export function buckets(samples: Sample[], name: string, plugin: string): [number, number][] {
  return samples
    .filter((s) => s.name === `${name}_bucket` && s.labels.plugin === plugin)
    .map((s): [number, number] => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
    .sort((a, b) => a[0] - b[0]);
}

/** The upper bound of the bucket holding the q-quantile, from the difference of two snapshots. */
export function quantile(now: [number, number][], before: [number, number][], q: number): number | null {
  const counts = now.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)] as [number, number]);
  const total = counts.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  return counts.find(([, n]) => n >= rank)?.[0] ?? null;
}
