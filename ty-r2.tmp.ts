import { readFileSync } from 'node:fs';
import { ocrText } from './src/typography/ocr.js';
const a=readFileSync('/tmp/ty-r0.png'), b=readFileSync('/tmp/ty-r1.png');
for (const [png, box, lang, key] of [[a,{x:314,y:909,w:395,h:74},'chi_sim','#ffffff'],[b,{x:165,y:408,w:694,h:207},'eng','#ffffff'],[a,{x:293,y:41,w:438,h:180},'chi_sim','#e02020'],[b,{ x: 42, y: 809, w: 939, h: 174 },'eng','#d4af37']] as const) {
  console.log(await ocrText(png, {lang, box}), '|', await ocrText(png, {lang, box, keyColor: key}));
}
