/** The heavy valid prompt of issue #12 (the reliability tests and bench:load share it). */
const FILLER = '春日的山谷里开满了桃花，远处的村庄炊烟袅袅，小溪潺潺流过青石板桥，孩子们在田野间放着风筝，';

/** 1000 CJK characters with five quoted spans to draw (one of them ~130 characters long). */
export function heavyPrompt(): string {
  let p = `海报设计，标题写着“春风十里不如你”，副标题写着“桃花源记·山水之间的宁静生活”，底部写着“二〇二六年春季限定发售敬请期待更多精彩内容”，左上角写着“${FILLER.repeat(3)}”，`;
  while ([...p].length < 940) p += FILLER;
  p += `右下角写着“${'梦图文生图'.repeat(8)}”`;
  return [...p].slice(0, 1000).join('');
}
