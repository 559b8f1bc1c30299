/** The `mengtu` command line. */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { CvError, EngineError } from '../contract/errors.js';
import { registerGenerateCommand } from './generate.js';
import { registerKeysCommands } from './keys.js';
import { registerLayoutCommand } from './layout.js';
import { registerModelCommands } from './models.js';
import { registerServeCommand } from './serve.js';
import { registerWorkerCommand } from './worker.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('mengtu')
  .description('梦图 mengtu — self-hosted text-to-image server speaking the Jimeng (即梦) 2.1 CVProcess API')
  .version(pkg.version);

registerServeCommand(program);
registerWorkerCommand(program);
registerGenerateCommand(program);
registerKeysCommands(program);
registerModelCommands(program);
registerLayoutCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // The operator runs the CLI: a CvError's log detail (why the engine is not ready, which rule fired) is for them.
  const msg = err instanceof EngineError ? err.message : err instanceof CvError ? `${err.code} ${err.message}${err.logDetail ? ` (${err.logDetail})` : ''}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`mengtu: ${msg}\n`);
  process.exit(1);
}
