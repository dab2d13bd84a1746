// The one error of the CLI's own making: a usage mistake the parser could not see (exit code 2).
export class UsageError extends Error {}
