/**
 * The deterministic rule-based expander behind use_pre_llm: English base prompt (glossary translation
 * for Chinese) + composition, lighting, style and quality cues for the detected subject type. Cues the
 * prompt already states are not repeated. Quoted text passes through untouched.
 */
import { CUES, QUALITY_CUES } from './cues.js';
import { splitQuoted } from './quoted.js';
import { detectSubject, type SubjectType } from './subject.js';
import { translatePrompt } from './translate.js';

const NIGHT = /夜|星空|月光|霓虹|\b(night|nighttime|midnight|starry|neon|moonlight|moonlit)\b/u;
const LIGHTING_GIVEN = /光|日落|日出|黄昏|傍晚|清晨|\b(light|lighting|lit|sunset|sunrise|dusk|dawn|golden hour|backlit|overcast)\b/u;
const NIGHT_LIGHTING = ['night atmosphere', 'glowing lights', 'deep shadows'];

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
  const described = `${plain.toLowerCase()} ${baseLower}`;
  // The prompt's own light or time of day wins over the type's default lighting (no "golden hour" at night).
  const lighting = NIGHT.test(described) ? NIGHT_LIGHTING : LIGHTING_GIVEN.test(described) ? [] : c.lighting;
  const added: string[] = [];
  for (const cue of [...c.composition, ...lighting, ...c.style, ...QUALITY_CUES]) {
    if (!baseLower.includes(cue.toLowerCase()) && !added.includes(cue)) added.push(cue);
  }
  return { text: base ? `${base}, ${added.join(', ')}` : added.join(', '), subject: type };
}
