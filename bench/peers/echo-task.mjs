// piscina's task in the peers bench: the very function plugd's bench plugin runs for Bench.Echo.
const { default: plugin } = await import(new URL('../bundles/noop/index.mjs', import.meta.url).href);

/** @type {(args: unknown) => unknown} */
const echo = plugin.methods['Bench.Echo'];
/** @param {unknown} args */
export default (args) => echo(args);
