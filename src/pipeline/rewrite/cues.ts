/**
 * What the rule-based expander adds per subject type, in the order Jimeng's prompt guidance suggests
 * (subject → scene/style → composition → lighting → quality). Written as English phrases because the
 * model's text encoder reads English.
 */
import type { SubjectType } from './subject.js';

export interface Cues {
  composition: string[];
  lighting: string[];
  style: string[];
}

export const CUES: Record<SubjectType, Cues> = {
  portrait: {
    composition: ['half-length portrait', 'eye-level shot', 'shallow depth of field', '85mm lens'],
    lighting: ['soft diffused lighting', 'gentle rim light'],
    style: ['natural skin texture', 'detailed eyes', 'photorealistic'],
  },
  landscape: {
    composition: ['wide-angle view', 'rule of thirds composition', 'layered foreground and background'],
    lighting: ['golden hour light', 'atmospheric perspective'],
    style: ['high dynamic range', 'rich natural colors', 'landscape photography'],
  },
  poster: {
    composition: ['poster layout', 'clear visual hierarchy', 'balanced negative space for text'],
    lighting: ['even flat lighting'],
    style: ['graphic design', 'bold colors', 'clean background'],
  },
  product: {
    composition: ['centered product shot', 'clean seamless background', 'slight top-down angle'],
    lighting: ['studio softbox lighting', 'soft reflections'],
    style: ['commercial product photography', 'sharp focus', 'premium texture'],
  },
  animal: {
    composition: ['eye-level shot', 'shallow depth of field', 'subject in focus'],
    lighting: ['soft natural light', 'catchlight in the eyes'],
    style: ['detailed fur and feathers', 'wildlife photography'],
  },
  architecture: {
    composition: ['symmetrical composition', 'leading lines', 'straight verticals'],
    lighting: ['soft daylight', 'clear sky'],
    style: ['architectural photography', 'clean lines', 'fine material detail'],
  },
  food: {
    composition: ['45-degree overhead angle', 'close-up', 'styled table setting'],
    lighting: ['soft window light', 'warm tones'],
    style: ['food photography', 'appetizing', 'fresh ingredients', 'shallow depth of field'],
  },
  illustration: {
    composition: ['dynamic composition', 'detailed background'],
    lighting: ['soft cinematic lighting'],
    style: ['illustration', 'clean line art', 'vibrant colors', 'consistent art style'],
  },
  general: {
    composition: ['balanced composition', 'clear subject'],
    lighting: ['natural lighting'],
    style: ['rich detail'],
  },
};

/**
 * What each cue claims about the shot, so the expander can leave out those the prompt already decides:
 * shot size, camera angle, lens, time of day, light, "this is a photograph", face detail.
 */
export type CueKind = 'shot' | 'angle' | 'lens' | 'time' | 'light' | 'photo' | 'face';

export const CUE_KIND: Readonly<Record<string, CueKind>> = {
  'half-length portrait': 'shot',
  'wide-angle view': 'shot',
  'centered product shot': 'shot',
  'close-up': 'shot',
  'eye-level shot': 'angle',
  'slight top-down angle': 'angle',
  '45-degree overhead angle': 'angle',
  '85mm lens': 'lens',
  'shallow depth of field': 'lens',
  'golden hour light': 'time',
  'soft daylight': 'time',
  'clear sky': 'time',
  'soft diffused lighting': 'light',
  'gentle rim light': 'light',
  'even flat lighting': 'light',
  'studio softbox lighting': 'light',
  'soft natural light': 'light',
  'soft window light': 'light',
  'soft cinematic lighting': 'light',
  'natural lighting': 'light',
  'atmospheric perspective': 'light',
  'catchlight in the eyes': 'face',
  'natural skin texture': 'face',
  'detailed eyes': 'face',
  photorealistic: 'photo',
  'landscape photography': 'photo',
  'commercial product photography': 'photo',
  'wildlife photography': 'photo',
  'architectural photography': 'photo',
  'food photography': 'photo',
};

/** Cues for a view the prompt names; they replace the subject type's shot, angle and lens cues. */
export const VIEW_CUES: Readonly<Record<string, string[]>> = {
  aerial: ["bird's-eye view", 'high vantage point', 'sense of scale'],
  macro: ['macro lens', 'extreme close-up detail', 'shallow depth of field'],
  'close-up': ['fine surface detail'],
  wide: ['expansive view'],
};

/** Appended to every expansion. */
export const QUALITY_CUES = ['high quality', 'highly detailed', 'sharp focus'];
