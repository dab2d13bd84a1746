// Turns what pacote and npm-registry-fetch throw into PlugdErrors with stable codes.
import { PlugdError } from '../../errors.js';

/** Network failures: the registry is down, unreachable or slow. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ERR_SOCKET_TIMEOUT',
  // @npmcli/agent's timeouts: registryTimeoutMs is its idle timeout (a download that stalls)
  'ECONNECTIONTIMEOUT',
  'EIDLETIMEOUT',
  'ERESPONSETIMEOUT',
  'ETRANSFERTIMEOUT',
]);

export function registryError(e: unknown, spec: string, registry: string): PlugdError {
  if (e instanceof PlugdError) return e;
  const err = e as { code?: string; statusCode?: number; type?: string; message?: string };
  const why = String(err.message ?? e).split('\n')[0];
  if (err.code === 'EINTEGRITY') {
    return new PlugdError(
      'PLUGD_E_INTEGRITY',
      `the tarball of ${spec} from ${registry} does not match its published integrity; it was not unpacked (${why})`,
      { cause: e },
    );
  }
  if (err.code === 'E404' || err.code === 'ETARGET' || err.code === 'ENOVERSIONS') {
    return new PlugdError('PLUGD_E_NOT_FOUND', `${registry} has no package matching ${spec}: ${why}`, { cause: e, details: { spec } });
  }
  if (err.code === 'E401' || err.code === 'E403') {
    return new PlugdError('PLUGD_E_REGISTRY', `${registry} refused ${spec} (${err.code}); check the auth token for it in your .npmrc`, {
      cause: e,
      details: { spec, registry },
    });
  }
  const unreachable =
    UNREACHABLE.has(err.code ?? '') || err.type === 'request-timeout' || err.type === 'system' || err.code === 'FETCH_ERROR';
  const what = unreachable ? 'cannot be reached or did not answer in time (registryTimeoutMs)' : 'failed';
  return new PlugdError('PLUGD_E_REGISTRY', `the npm registry ${registry} ${what} for ${spec}: ${why}`, {
    cause: e,
    details: { spec, registry },
  });
}
