// How a plugin's state reads to a person, the same in the CLI and the inspector's page (which is
// bundled for the browser: this file imports nothing).

/** `enabled (idle)` for a lazy plugin waiting for its next call, else the state's own name. */
export function stateLabel(plugin: { state: string; idle?: boolean }): string {
  return plugin.idle === true ? `${plugin.state} (idle)` : plugin.state;
}
