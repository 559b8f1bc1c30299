/**
 * Subject-type detection from Chinese and English keywords: decides which composition, lighting and
 * style cues the rule-based expander adds. Scores keyword hits per type; ties go to the earlier type in
 * SUBJECT_TYPES (more specific first: a poster of a cat is a poster).
 */

export const SUBJECT_TYPES = [
  'poster',
  'illustration',
  'product',
  'food',
  'portrait',
  'animal',
  'architecture',
  'landscape',
] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number] | 'general';

const KEYWORDS: Record<(typeof SUBJECT_TYPES)[number], { zh: string[]; en: string[] }> = {
  poster: {
    zh: ['海报', '封面', '标题', '宣传', '广告', '横幅', '传单', '字体', '文字', '标语', '招贴', 'logo'],
    en: ['poster', 'flyer', 'banner', 'cover', 'typography', 'headline', 'title', 'advertisement', 'ad', 'logo', 'lettering'],
  },
  illustration: {
    zh: ['插画', '插图', '动漫', '动画', '二次元', '漫画', '卡通', '水彩', '油画', '国画', '水墨', '素描', '像素', '手绘', 'q版', '绘本'],
    en: ['illustration', 'anime', 'manga', 'cartoon', 'watercolor', 'painting', 'sketch', 'drawing', 'pixel art', 'comic', 'chibi', 'cel'],
  },
  product: {
    zh: ['产品', '商品', '手机', '手表', '香水', '口红', '化妆品', '耳机', '瓶子', '包装', '电商', '珠宝', '项链', '运动鞋', '相机'],
    en: ['product', 'packshot', 'smartphone', 'phone', 'watch', 'perfume', 'lipstick', 'cosmetics', 'headphones', 'bottle', 'packaging', 'jewelry', 'sneaker', 'sneakers'],
  },
  food: {
    zh: ['美食', '食物', '蛋糕', '面包', '咖啡', '奶茶', '水果', '火锅', '面条', '拉面', '饺子', '寿司', '披萨', '汉堡', '牛排', '甜点', '冰淇淋', '菜', '早餐', '月饼'],
    en: ['food', 'cake', 'bread', 'coffee', 'tea', 'fruit', 'noodles', 'ramen', 'dumplings', 'sushi', 'pizza', 'burger', 'steak', 'dessert', 'ice cream', 'dish', 'meal', 'breakfast'],
  },
  portrait: {
    zh: ['人像', '肖像', '女孩', '男孩', '女人', '男人', '少女', '少年', '老人', '美女', '帅哥', '新娘', '模特', '自拍', '证件照', '脸', '微笑', '人物'],
    en: ['portrait', 'girl', 'boy', 'woman', 'man', 'person', 'people', 'face', 'model', 'bride', 'selfie', 'headshot', 'smiling', 'lady', 'child'],
  },
  animal: {
    zh: ['猫', '狗', '熊猫', '老虎', '狮子', '狐狸', '狼', '熊', '兔', '鹿', '马', '鸟', '鹰', '鱼', '鲸', '蝴蝶', '动物', '松鼠', '企鹅', '大象'],
    en: ['cat', 'kitten', 'dog', 'puppy', 'panda', 'tiger', 'lion', 'fox', 'wolf', 'bear', 'rabbit', 'deer', 'horse', 'bird', 'eagle', 'fish', 'whale', 'butterfly', 'animal', 'squirrel', 'penguin', 'elephant', 'owl'],
  },
  architecture: {
    zh: ['建筑', '大楼', '高楼', '摩天', '房子', '城堡', '宫殿', '寺庙', '宝塔', '教堂', '桥', '室内', '客厅', '卧室', '图书馆', '庭院', '古镇'],
    en: ['architecture', 'building', 'skyscraper', 'house', 'castle', 'palace', 'temple', 'pagoda', 'church', 'bridge', 'interior', 'living room', 'bedroom', 'library', 'courtyard', 'tower'],
  },
  landscape: {
    zh: ['风景', '景色', '山', '森林', '海', '湖', '河', '瀑布', '沙漠', '草原', '田野', '星空', '银河', '日出', '日落', '云海', '雪地', '峡谷', '夜景', '城市'],
    en: ['landscape', 'scenery', 'mountain', 'mountains', 'forest', 'sea', 'ocean', 'lake', 'river', 'waterfall', 'desert', 'meadow', 'valley', 'sky', 'galaxy', 'sunrise', 'sunset', 'beach', 'canyon', 'skyline', 'city'],
  },
};

function countHits(lower: string, words: ReadonlySet<string>, type: (typeof SUBJECT_TYPES)[number]): number {
  const k = KEYWORDS[type];
  let n = 0;
  for (const z of k.zh) if (lower.includes(z)) n++;
  for (const e of k.en) {
    if (e.includes(' ') ? lower.includes(e) : words.has(e)) n++;
  }
  return n;
}

export interface SubjectDetection {
  type: SubjectType;
  /** Hit count per type (for logs and tests). */
  scores: Record<(typeof SUBJECT_TYPES)[number], number>;
}

/**
 * Detects the subject from the prompt text outside quotes (quoted text is content, not description).
 * `hasQuotedText` nudges towards poster: text to render usually means a designed layout.
 */
export function detectSubject(plainText: string, hasQuotedText = false): SubjectDetection {
  const lower = plainText.toLowerCase();
  const words = new Set(lower.split(/[^a-z]+/).filter(Boolean));
  const scores = Object.fromEntries(SUBJECT_TYPES.map((t) => [t, countHits(lower, words, t)])) as SubjectDetection['scores'];
  if (hasQuotedText) scores.poster += 1;
  let best: SubjectType = 'general';
  let bestScore = 0;
  for (const t of SUBJECT_TYPES) {
    if (scores[t] > bestScore) {
      best = t;
      bestScore = scores[t];
    }
  }
  // A style word outranks the thing depicted: "anime girl" is an illustration, not a photo portrait.
  if (scores.illustration > 0 && best !== 'poster') best = 'illustration';
  return { type: best, scores };
}
