/**
 * The deterministic rule-based expander behind use_pre_llm: English base prompt (glossary translation
 * for Chinese) + composition, lighting, style and quality cues for the detected subject type. Cues the
 * prompt already states are not repeated. Quoted text passes through untouched.
 */
import { CUES, QUALITY_CUES } from './cues.js';
import { splitQuoted } from './quoted.js';
import { detectSubject, type SubjectType } from './subject.js';
import { translatePrompt } from './translate.js';

export interface Expansion {
  text: string;
  subject: SubjectType;
}

export function expandPrompt(prompt: string, translated = translatePrompt(prompt)): Expansion {
  const segments = splitQuoted(prompt);
  const plain = segments.filter((s) => !s.quoted).map((s) => s.text).join(' ');
  const hasQuoted = segments.some((s) => s.quoted);
  const base = (translated || prompt.trim()).replace(/[\s,，。.;；]+$/u, '');
  const baseLower = splitQuoted(base)
    .filter((s) => !s.quoted)
    .map((s) => s.text.toLowerCase())
    .join(' ');
  const { type } = detectSubject(`${plain} ${baseLower}`, hasQuoted);
  const c = CUES[type];
  const added: string[] = [];
  for (const cue of [...c.composition, ...c.lighting, ...c.style, ...QUALITY_CUES]) {
    if (!baseLower.includes(cue.toLowerCase()) && !added.includes(cue)) added.push(cue);
  }
  return { text: base ? `${base}, ${added.join(', ')}` : added.join(', '), subject: type };
}
