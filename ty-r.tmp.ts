import sharp from 'sharp';
import { parseTextPlan, layoutPlan, renderTextPlanDetailed, ocrText } from './src/typography/index.js';
const W=1024,H=1024; const data=new Uint8ClampedArray(W*H*4);
for (let y=0;y<H;y++) for(let x=0;x<W;x++){const i=(y*W+x)*4; data[i]=(x/4)|0; data[i+1]=(y/4)|0; data[i+2]=((x+y)%97)*2; data[i+3]=255;}
const img={width:W,height:H,data};
const prompts=['画面上方有手写涂鸦风格的红色文字写着：“新年快乐”，底部有白色小字“万事如意 阖家幸福”，右侧竖排书法“福星高照”',
'a poster with the title "GRAND OPENING" in gold at the bottom, and a neon sign that says "OPEN 24/7" at the top left, "Come in, we\'re extraordinarily open" in the center'];
let k=0;
for (const p of prompts) {
  const plan=parseTextPlan(p);
  let t=performance.now(); const r=renderTextPlanDetailed(img, plan); console.log('ms', performance.now()-t);
  t=performance.now(); const r2=renderTextPlanDetailed(img, plan); console.log('ms2', performance.now()-t);
  const png = await sharp(Buffer.from(r.image.data.buffer), {raw:{width:W,height:H,channels:4}}).png().toBuffer();
  await sharp(png).toFile(`/tmp/ty-r${k++}.png`);
  for (const [i,lb] of r.layout.blocks.entries()) {
    console.log(JSON.stringify({t:lb.block.text, box:lb.box, size:lb.fontSize, lines:lb.lines.map(l=>l.text), leg:r.legibility[i]?.treatment}));
    const lang = lb.block.vertical ? 'chi_sim_vert' : lb.block.lang==='zh' ? 'chi_sim' : 'eng';
    console.log('  OCR:', await ocrText(png, {lang, box: lb.box, psm: lb.block.vertical?5:6}));
  }
}
