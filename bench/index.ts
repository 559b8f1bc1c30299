/** `npm run bench`: every benchmark in turn, each printing its own table. */
import { formatEngineBench, runEngineBench } from './engine.js';
import { runGatewayBench } from './gateway.js';
import { runPipelineBench } from './pipeline.js';
import { runScaleBench } from './scale.js';
import { formatStagesBench, runStagesBench } from './stages.js';
import { runTextBench } from './text.js';

const quiet = (): void => {};
process.stdout.write('== engine ==\n');
process.stdout.write(formatEngineBench(await runEngineBench({ log: quiet })) + '\n\n');
process.stdout.write('== pipeline stages (1024×1024) ==\n');
process.stdout.write(formatStagesBench(await runStagesBench({ log: quiet })) + '\n\n');
process.stdout.write('== pipeline, per stage, real jobs ==\n');
await runPipelineBench();
process.stdout.write('\n== gateway ==\n');
await runGatewayBench();
process.stdout.write('\n== scale-out (Redis, workers) ==\n');
await runScaleBench();
process.stdout.write('\n== text in images ==\n');
await runTextBench();
