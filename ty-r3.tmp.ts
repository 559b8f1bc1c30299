import { readFileSync, writeFileSync } from 'node:fs';
import { prepare } from './src/typography/ocr.js';
const b=readFileSync('/tmp/ty-r1.png'); const a=readFileSync('/tmp/ty-r0.png');
writeFileSync('/tmp/k1.png', await prepare(b, {lang:'eng', box:{x:165,y:408,w:694,h:207}, keyColor:'#ffffff'}));
writeFileSync('/tmp/k2.png', await prepare(a, {lang:'eng', box:{x:314,y:909,w:395,h:74}, keyColor:'#ffffff', scaleTo:{textHeight:46,targetHeight:40}}));
