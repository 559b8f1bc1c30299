/** Position words → a cell of the 3×3 grid. Each entry may fix the row, the column or both. */
import type { HPos, VPos } from '../types.js';

export interface PositionHint {
  v?: VPos;
  h?: HPos;
}

/** Chinese, longest first so 左上角 wins over 上. */
export const ZH_POSITIONS: ReadonlyArray<readonly [string, PositionHint]> = [
  ['左上角', { v: 'top', h: 'left' }],
  ['右上角', { v: 'top', h: 'right' }],
  ['左下角', { v: 'bottom', h: 'left' }],
  ['右下角', { v: 'bottom', h: 'right' }],
  ['左上方', { v: 'top', h: 'left' }],
  ['右上方', { v: 'top', h: 'right' }],
  ['左下方', { v: 'bottom', h: 'left' }],
  ['右下方', { v: 'bottom', h: 'right' }],
  ['正中央', { v: 'middle', h: 'center' }],
  ['正中间', { v: 'middle', h: 'center' }],
  ['上方', { v: 'top' }],
  ['顶部', { v: 'top' }],
  ['顶端', { v: 'top' }],
  ['上部', { v: 'top' }],
  ['顶上', { v: 'top' }],
  ['最上面', { v: 'top' }],
  ['上面', { v: 'top' }],
  ['中间', { v: 'middle', h: 'center' }],
  ['中央', { v: 'middle', h: 'center' }],
  ['中部', { v: 'middle' }],
  ['居中', { h: 'center' }],
  ['正中', { v: 'middle', h: 'center' }],
  ['下方', { v: 'bottom' }],
  ['底部', { v: 'bottom' }],
  ['底端', { v: 'bottom' }],
  ['下部', { v: 'bottom' }],
  ['最下面', { v: 'bottom' }],
  ['下面', { v: 'bottom' }],
  ['左侧', { h: 'left' }],
  ['左边', { h: 'left' }],
  ['左方', { h: 'left' }],
  ['右侧', { h: 'right' }],
  ['右边', { h: 'right' }],
  ['右方', { h: 'right' }],
];

/** English; matched on word boundaries, longest first. */
export const EN_POSITIONS: ReadonlyArray<readonly [string, PositionHint]> = [
  ['upper left', { v: 'top', h: 'left' }],
  ['upper right', { v: 'top', h: 'right' }],
  ['lower left', { v: 'bottom', h: 'left' }],
  ['lower right', { v: 'bottom', h: 'right' }],
  ['top left', { v: 'top', h: 'left' }],
  ['top right', { v: 'top', h: 'right' }],
  ['bottom left', { v: 'bottom', h: 'left' }],
  ['bottom right', { v: 'bottom', h: 'right' }],
  ['top-left', { v: 'top', h: 'left' }],
  ['top-right', { v: 'top', h: 'right' }],
  ['bottom-left', { v: 'bottom', h: 'left' }],
  ['bottom-right', { v: 'bottom', h: 'right' }],
  ['centre', { v: 'middle', h: 'center' }],
  ['center', { v: 'middle', h: 'center' }],
  ['middle', { v: 'middle', h: 'center' }],
  ['top', { v: 'top' }],
  ['upper', { v: 'top' }],
  ['bottom', { v: 'bottom' }],
  ['lower', { v: 'bottom' }],
  ['left', { h: 'left' }],
  ['right', { h: 'right' }],
];

/** Position in words, for the model prompt ("blank area at the top"). */
export function positionWords(v: VPos, h: HPos): { en: string; zh: string } {
  const en = v === 'middle' && h === 'center' ? 'center' : v === 'middle' ? `${h} side` : h === 'center' ? v : `${v} ${h} corner`;
  const zhV = { top: '上', middle: '中', bottom: '下' }[v];
  const zhH = { left: '左', center: '', right: '右' }[h];
  const zh = v === 'middle' && h === 'center' ? '中央' : h === 'center' ? (v === 'top' ? '顶部' : '底部') : v === 'middle' ? `${zhH}侧` : `${zhH}${zhV}角`;
  return { en, zh };
}
