/**
 * The deterministic rule-based expander behind use_pre_llm: English base prompt (translation for Chinese)
 * + composition, lighting, style and quality cues for the detected subject type — only those consistent with
 * what the prompt already says (scene.ts): a named view (aerial, macro, close-up …) replaces the type's shot,
 * angle and lens; a named angle, lens, time of day or light is never given a second one; an illustration
 * style gets no camera or "photography" cues; small figures get no portrait framing. Cues the prompt already
 * states are not repeated. Quoted text passes through untouched.
 */
import { CUE_KIND, CUES, QUALITY_CUES, VIEW_CUES, type CueKind } from './cues.js';
import { splitQuoted } from './quoted.js';
import { readScene, type Scene } from './scene.js';
import { detectSubject, type SubjectType } from './subject.js';
import { translatePrompt } from './translate.js';

const NIGHT_LIGHTING = ['night atmosphere', 'glowing lights', 'deep shadows'];

/** The cue kinds the prompt has already decided, so the type's defaults of those kinds are left out. */
function decided(scene: Scene): Set<CueKind> {
  const out = new Set<CueKind>();
  if (scene.view) out.add('shot');
  if (scene.view === 'aerial' || scene.view === 'macro' || scene.angle) out.add('angle');
  if (scene.view === 'aerial' || scene.view === 'macro' || scene.view === 'wide' || scene.lens || scene.drawn) out.add('lens');
  if (scene.time) out.add('time');
  if (scene.lighting || scene.time === 'night') out.add('light');
  if (scene.drawn) out.add('photo');
  if (scene.smallFigures || scene.view === 'aerial' || scene.view === 'wide') out.add('face');
  // Small figures in a scene are not a portrait: no half-length framing or 85mm either.
  if (scene.smallFigures) {
    out.add('shot');
    out.add('lens');
  }
  return out;
}

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
  const scene = readScene(`${plain} ${baseLower}`);
  const skip = decided(scene);
  const keep = (cue: string): boolean => {
    const kind = CUE_KIND[cue];
    return kind === undefined || !skip.has(kind);
  };
  const viewCues = scene.view ? (VIEW_CUES[scene.view] ?? []) : [];
  const lighting = scene.time === 'night' && !scene.lighting ? NIGHT_LIGHTING : c.lighting.filter(keep);
  const added: string[] = [];
  for (const cue of [...viewCues, ...c.composition.filter(keep), ...lighting, ...c.style.filter(keep), ...QUALITY_CUES]) {
    if (!baseLower.includes(cue.toLowerCase()) && !added.includes(cue)) added.push(cue);
  }
  return { text: base ? `${base}, ${added.join(', ')}` : added.join(', '), subject: type };
}
