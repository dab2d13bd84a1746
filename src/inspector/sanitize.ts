// What of an actor's context the inspector may show: no env values, no secrets, bounded in size.
const HIDDEN = /^(env|environment|secret|secrets|token|password|authorization|cookie)$/i;
const MAX_DEPTH = 6;
const MAX_KEYS = 50;
const MAX_STRING = 500;

/** A copy of `value` with env-like keys replaced by their key names only, and size capped. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value).slice(0, MAX_KEYS)) {
    out[key] = HIDDEN.test(key) ? hidden(v) : sanitize(v, depth + 1);
  }
  return out;
}

function hidden(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((entry) => (typeof entry === 'string' ? `${entry.split('=')[0]}=…` : '…'));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.keys(v).map((k) => [k, '…']));
  return '…';
}
