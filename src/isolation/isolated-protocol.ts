// What crosses the IPC channel between the supervisor and a plugin run with "isolation":
// "process" (entry/isolated-plugin.mjs), declared once; the child reads it through JSDoc types.
// The child is not trusted: every message it sends goes through readChildMessage() first.
import { isPlainError, type PlainError } from './entry/plain-error.mjs';

/** What the child needs to run one plugin instance; sent with the first `activate`. */
export interface IsolatedInit {
  name: string;
  id: string;
  instance: number;
  /** Absolute path of the plugin's entry module, inside its bundle. */
  entry: string;
  args: string[];
  /** The plugin's own folder for files (the only place it may write); ctx.dataDir. */
  dataDir: string;
  /** pino's level name for ctx.log ("info"...). */
  logLevel: string;
}

/** Host to child. */
export type ParentMessage =
  | [tag: 'activate', init: IsolatedInit]
  | [tag: 'call', id: number, method: string, args: unknown]
  | [tag: 'ping', seq: number]
  | [tag: 'deactivate'];

/** Child to host. */
export type ChildMessage =
  | [tag: 'activated', implemented: string[]]
  | [tag: 'activate-failed', error: PlainError]
  | [tag: 'reply', id: number, failed: 0, value: unknown]
  | [tag: 'reply', id: number, failed: 1, error: PlainError]
  | [tag: 'pong', seq: number]
  | [tag: 'deactivated']
  /** An uncaught error, sent just before the child exits. */
  | [tag: 'crashed', error: PlainError];

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** The message if it is one the child may send, else null (the instance is then ended). */
export function readChildMessage(m: unknown): ChildMessage | null {
  if (!Array.isArray(m) || typeof m[0] !== 'string') return null;
  switch (m[0]) {
    case 'activated':
      return m.length === 2 && Array.isArray(m[1]) && m[1].every((t) => typeof t === 'string') ? (m as ChildMessage) : null;
    case 'activate-failed':
    case 'crashed':
      return m.length === 2 && isPlainError(m[1]) ? (m as ChildMessage) : null;
    case 'reply':
      if (m.length !== 4 || !isSeq(m[1])) return null;
      if (m[2] === 0) return m as ChildMessage;
      return m[2] === 1 && isPlainError(m[3]) ? (m as ChildMessage) : null;
    case 'pong':
      return m.length === 2 && isSeq(m[1]) ? (m as ChildMessage) : null;
    case 'deactivated':
      return m.length === 1 ? (m as ChildMessage) : null;
    default:
      return null;
  }
}
