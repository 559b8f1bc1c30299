/**
 * What a worker thread loads once and keeps (the engine, the classifier, the SR resolver). A failed load is
 * forgotten, so the next task tries again rather than failing for the thread's whole life.
 */
export interface LoadedOnce<A extends unknown[], T> {
  /** The loaded value, loading it with `args` the first time (later args are ignored while it is kept). */
  get(...args: A): Promise<T>;
  /** The value if a load started, forgotten from now on (for `close`). */
  take(): Promise<T> | undefined;
}

export function loadOnce<A extends unknown[], T>(load: (...args: A) => Promise<T>): LoadedOnce<A, T> {
  let value: Promise<T> | undefined;
  return {
    get(...args) {
      value ??= load(...args).catch((err: unknown) => {
        value = undefined;
        throw err;
      });
      return value;
    },
    take() {
      const v = value;
      value = undefined;
      return v;
    },
  };
}
