/** Where models live: `$MENGTU_HOME` or `~/.cache/mengtu`, models under `models/<name>`. */
import os from 'node:os';
import path from 'node:path';

export function mengtuHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MENGTU_HOME && env.MENGTU_HOME.length > 0
    ? path.resolve(env.MENGTU_HOME)
    : path.join(os.homedir(), '.cache', 'mengtu');
}

/**
 * `env` with a configured home applied: the runtime reads MENGTU_HOME once (src/runtime/config.ts) and passes
 * `cfg.engine.home` down; the engine's functions take it through this (their defaults serve library callers).
 */
export function withHome(home: string | undefined, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return home && home.length > 0 ? { ...env, MENGTU_HOME: home } : env;
}

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(mengtuHome(env), 'models');
}
