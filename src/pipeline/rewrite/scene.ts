/**
 * What the prompt already says about the shot, so the expander adds only cues that agree with it: the view
 * (aerial, macro, close-up, wide, full body, half-length), the camera angle, a lens, the time of day, and
 * whether it asks for an illustration style rather than a photograph. Read from the Chinese prompt and its
 * English translation together.
 */

export type View = 'aerial' | 'macro' | 'close-up' | 'wide' | 'full-body' | 'half-length';
export type TimeOfDay = 'night' | 'golden' | 'day' | 'blue-hour';

export interface Scene {
  view?: View;
  /** The prompt names a camera angle (eye-level, low-angle, overhead …). */
  angle: boolean;
  /** The prompt names a lens or focal length (85mm, fisheye, telephoto, wide-angle …). */
  lens: boolean;
  time?: TimeOfDay;
  /** The prompt names its light (backlit, softbox, neon …). */
  lighting: boolean;
  /** An illustration or painting style: photographic cues (lens, photorealistic) do not fit. */
  drawn: boolean;
  /** Many or small figures (crowd, tiny people): a single-portrait framing does not fit. */
  smallFigures: boolean;
}

const VIEWS: Array<[View, RegExp]> = [
  ['aerial', /航拍|鸟瞰|俯瞰|无人机|\b(?:aerial|drone|bird'?s[- ]eye|from above|top[- ]down view)\b/i],
  ['macro', /微距|\bmacro\b/i],
  ['close-up', /特写|大特写|\b(?:close[- ]?up|closeup|extreme close)\b/i],
  ['wide', /全景|远景|大场景|\b(?:wide[- ]angle view|panorama|panoramic|wide shot|long shot|establishing shot)\b/i],
  ['full-body', /全身|\bfull[- ]body\b|\bfull[- ]length\b/i],
  ['half-length', /半身|\bhalf[- ]length\b|\bwaist[- ]up\b|\bheadshot\b/i],
];
const ANGLE = /俯拍|仰拍|俯视|仰视|平视|侧拍|\b(?:eye[- ]level|low[- ]angle|high[- ]angle|overhead|top[- ]down|worm'?s[- ]eye|dutch angle|from below|side view)\b/i;
const LENS = /广角|长焦|鱼眼|微距|镜头|\b\d{2,3}\s?mm\b|\b(?:fisheye|telephoto|wide[- ]angle|macro lens|tilt[- ]shift|lens)\b/i;
const TIMES: Array<[TimeOfDay, RegExp]> = [
  ['night', /夜|星空|月光|月色|银河|霓虹|\b(?:night|nighttime|midnight|starry|moonlit|moonlight|neon|milky way)\b/i],
  ['golden', /日落|日出|黄昏|夕阳|晚霞|朝阳|傍晚|\b(?:sunset|sunrise|dusk|dawn|golden hour|evening glow)\b/i],
  ['blue-hour', /蓝调时刻|\bblue hour\b/i],
  ['day', /白天|正午|中午|晴天|阳光明媚|\b(?:daytime|midday|noon|sunny|broad daylight)\b/i],
];
const LIGHTING = /光|灯|\b(?:light|lighting|lit|backlit|softbox|glow|rim light|overcast)\b/i;
const DRAWN = /插画|插图|动漫|动画|二次元|漫画|卡通|水彩|油画|国画|水墨|素描|像素|手绘|绘本|工笔|浮世绘|版画|剪纸|壁画|扁平|q版|皮克斯|迪士尼|宫崎骏|吉卜力|三维|3D|渲染|\b(?:illustration|anime|manga|cartoon|watercolou?r|painting|sketch|drawing|pixel art|comic|chibi|cel[- ]shaded|ink wash|ukiyo-e|3d render|render|pixar|ghibli|vector|flat design|low poly|isometric|clay)\b/i;
const SMALL_FIGURES = /人群|小人|行人|人们|一群人|游客|\b(?:crowd|tiny (?:people|figures)|small (?:running )?figures|people|pedestrians|tourists|passers-by)\b/i;

export function readScene(text: string): Scene {
  const view = VIEWS.find(([, re]) => re.test(text))?.[0];
  const time = TIMES.find(([, re]) => re.test(text))?.[0];
  return {
    ...(view ? { view } : {}),
    angle: ANGLE.test(text),
    lens: LENS.test(text),
    ...(time ? { time } : {}),
    lighting: LIGHTING.test(text),
    drawn: DRAWN.test(text),
    smallFigures: SMALL_FIGURES.test(text),
  };
}
