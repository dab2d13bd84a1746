// The supervisor's own log when the host gives no logger: nothing on stdout, and what an operator
// must not miss (warnings and errors: a watchdog kill, a crash, a give-up, a corrupt store record)
// as one readable line each on stderr, not JSON. The host's own logger replaces it; `false` mutes it.
import { pino, type Logger } from 'pino';

/** Where the lines go: process.stderr unless a test or a host says otherwise. */
export interface LineSink {
  write(line: string): unknown;
}

/** A pino logger at level "warn" that writes each entry as one `plugd <level>: …` line. */
export function stderrLogger(sink: LineSink = process.stderr): Logger {
  return pino(
    { level: 'warn', base: null, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
    {
      write: (json: string) => {
        sink.write(readableLine(json));
      },
    },
  );
}

/** A logger that writes nothing at all (`logger: false`). */
export function mutedLogger(): Logger {
  return pino({ enabled: false });
}

/** One pino JSON entry as one line: `plugd warn: <message> [<code>]`, newlines folded. */
export function readableLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `plugd: ${oneLine(json)}\n`;
  }
  let text = typeof entry.msg === 'string' ? entry.msg : '';
  const err = entry.err as { message?: unknown } | undefined;
  if (typeof err?.message === 'string' && !text.includes(err.message)) text = text ? `${text}: ${err.message}` : err.message;
  const code = typeof entry.code === 'string' ? ` [${entry.code}]` : '';
  return `plugd ${String(entry.level ?? 'log')}: ${oneLine(text)}${code}\n`;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' | ');
}
