/**
 * Worker threads yield the CPU to the event loop: each lowers its own scheduling priority when it starts (on
 * Linux the nice value is per thread, and threads it creates — onnxruntime's — inherit it). On a busy machine
 * the loop's short tasks (/healthz, signatures, answers) then run first instead of waiting for a time slice
 * behind a UNet step or a canvas drawing; with idle cores nothing changes.
 */
import os from 'node:os';

export function yieldToEventLoop(): void {
  try {
    os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not permitted or not supported here: run at the same priority.
  }
}
