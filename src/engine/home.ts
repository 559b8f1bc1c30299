/** Where models live: `$MENGTU_HOME` or `~/.cache/mengtu`, models under `models/<name>`. */
import os from 'node:os';
import path from 'node:path';

export function mengtuHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MENGTU_HOME && env.MENGTU_HOME.length > 0
    ? path.resolve(env.MENGTU_HOME)
    : path.join(os.homedir(), '.cache', 'mengtu');
}

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(mengtuHome(env), 'models');
}
