/** How a worker answers: the result's pixels (and encoded file) are transferred back (piscina's `move`), not copied. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { transferableOf, transferablesOf, type OffloadResult } from './tasks.js';

export function reply(result: OffloadResult): unknown {
  const transfer = [...transferablesOf(result.image), ...transferableOf(result.png)];
  if (transfer.length === 0) return result;
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
