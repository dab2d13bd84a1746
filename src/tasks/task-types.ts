// Shapes of the tasks run on the piscina pool, shared by the pool owner and the task files.

export interface BundleDigest {
  /** sha256 over the sorted (path, exec bit, content sha256) of every file. */
  digest: string;
  files: number;
  bytes: number;
}
