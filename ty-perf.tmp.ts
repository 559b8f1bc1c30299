import { createCanvas, ImageData } from '@napi-rs/canvas';
import { parseTextPlan, layoutPlan, renderTextPlanDetailed } from './src/typography/index.js';
const W=1024,H=1024; const data=new Uint8ClampedArray(W*H*4).fill(128);
const img={width:W,height:H,data};
const plan=parseTextPlan('画面上方有手写涂鸦风格的红色文字写着：“新年快乐”，底部有白色小字“万事如意 阖家幸福”，右侧竖排书法“福星高照”');
renderTextPlanDetailed(img, plan);
for (let k=0;k<3;k++){
let t=performance.now(); const lay=layoutPlan(plan,W,H); const tl=performance.now()-t;
t=performance.now(); renderTextPlanDetailed(img, plan, {layout: lay}); const tr=performance.now()-t;
t=performance.now(); const c=createCanvas(W,H); const ctx=c.getContext('2d'); ctx.putImageData(new ImageData(new Uint8ClampedArray(data),W,H),0,0); ctx.getImageData(0,0,W,H); const tio=performance.now()-t;
console.log({tl,tr,tio});
}
