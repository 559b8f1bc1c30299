/**
 * Risk word lists: plain text files, one term per line, `#` starts a comment, `[category]` headers set
 * the category of the terms below them (default `general`). The list's name is the file's base name.
 * Terms in the category `allow` form the allow-list: a match lying inside an allowed phrase is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RiskTerm {
  list: string;
  category: string;
  term: string;
}

export interface RiskLists {
  terms: RiskTerm[];
  allow: RiskTerm[];
}

export const ALLOW_CATEGORY = 'allow';
export const COPYRIGHT_CATEGORY = 'copyright';

/**
 * The lists shipped with mengtu (zh.txt, en.txt, copyright.txt, allow.txt). They live in src/ (which the
 * package ships) and tsc does not copy .txt files, so the path is the same from src/safety and dist/safety.
 */
export const SHIPPED_LISTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'src', 'safety', 'lists');

export class RiskListError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RiskListError';
  }
}

export function parseRiskList(text: string, list: string): RiskLists {
  const out: RiskLists = { terms: [], allow: [] };
  let category = 'general';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line.length === 0) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      category = header[1]!.trim().toLowerCase();
      continue;
    }
    const entry = { list, category, term: line };
    (category === ALLOW_CATEGORY ? out.allow : out.terms).push(entry);
  }
  return out;
}

/** Reads every `*.txt` in `dir` (sorted, for a stable rule order). A missing directory is an error. */
export function loadRiskListDir(dir: string): RiskLists {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();
  } catch (err) {
    throw new RiskListError(`cannot read risk list directory ${dir}`, { cause: err });
  }
  const out: RiskLists = { terms: [], allow: [] };
  for (const name of names) {
    const parsed = parseRiskList(fs.readFileSync(path.join(dir, name), 'utf8'), path.basename(name, '.txt'));
    out.terms.push(...parsed.terms);
    out.allow.push(...parsed.allow);
  }
  return out;
}

export function mergeRiskLists(...lists: RiskLists[]): RiskLists {
  return { terms: lists.flatMap((l) => l.terms), allow: lists.flatMap((l) => l.allow) };
}
