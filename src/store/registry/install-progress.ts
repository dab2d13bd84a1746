// The steps an install from a registry reports, in the order they happen.

/**
 * One step of `install('npm:…')` or an upgrade from the registry, in order: `resolve` (asking the
 * registry which version the spec means), `download` (repeated as bytes arrive), `verify` (the
 * bytes matched the published integrity), `unpack`, `dependencies` (only for a package that
 * declares some), `digest`.
 */
export type InstallProgress =
  | { step: 'resolve'; spec: string }
  | { step: 'download'; name: string; version: string; bytes: number }
  | { step: 'verify'; integrity: string }
  | { step: 'unpack' }
  | { step: 'dependencies'; count: number }
  | { step: 'digest' };

export type ProgressListener = (event: InstallProgress) => void;

/** Calls the host's listener; a listener that throws must not fail the install. */
export function reporter(listener: ProgressListener | undefined): ProgressListener {
  if (!listener) return () => {};
  return (event) => {
    try {
      listener(event);
    } catch {
      // the host's bug, not the install's
    }
  };
}
