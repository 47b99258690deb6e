/** Builds a value on first use and keeps it: Optique parser trees cost ~5 ms to build, which --help and --version skip. */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
