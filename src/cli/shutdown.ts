/** SIGTERM/SIGINT (and a fatal error) close a long-running role once, logging why; a second signal forces exit. */
import type { Logger } from 'pino';

export async function closeOnSignal(logger: Logger, opts: { delayMs: number; stopping: string }, close: () => Promise<void>): Promise<void> {
  const { default: closeWithGrace } = await import('close-with-grace');
  closeWithGrace({ delay: opts.delayMs, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, opts.stopping);
    await close();
    logger.info('bye');
  });
}
