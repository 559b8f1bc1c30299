/**
 * Chinese → English image vocabulary: `中文=english` per line. Used with longest-match segmentation,
 * so compounds (雪山) win over their parts (雪, 山). Kept to common prompt vocabulary; words not here
 * are left in Chinese.
 */
export const GLOSSARY_TEXT = `
# people
人=person
人物=person
男人=man
女人=woman
男子=man
女子=woman
男孩=boy
女孩=girl
小男孩=little boy
小女孩=little girl
少女=young girl
少年=teenage boy
孩子=child
小孩=child
儿童=child
婴儿=baby
老人=old man
老奶奶=old woman
老爷爷=old man
学生=student
医生=doctor
护士=nurse
警察=police officer
士兵=soldier
骑士=knight
武士=samurai
公主=princess
王子=prince
国王=king
女王=queen
宇航员=astronaut
厨师=chef
画家=painter
歌手=singer
舞者=dancer
模特=model
新娘=bride
情侣=couple
家人=family
一家人=family
人群=crowd
美女=beautiful woman
帅哥=handsome man
肖像=portrait
人像=portrait
自拍=selfie
脸=face
面部=face
眼睛=eyes
头发=hair
长发=long hair
短发=short hair
黑发=black hair
金发=blonde hair
微笑=smiling
笑容=smile
表情=expression
侧脸=profile
半身像=half-length portrait
全身=full body
证件照=ID photo
# clothing
穿着=wearing
戴着=wearing
裙子=dress
连衣裙=dress
长裙=long dress
汉服=hanfu
旗袍=qipao
和服=kimono
西装=suit
衬衫=shirt
外套=coat
毛衣=sweater
帽子=hat
眼镜=glasses
围巾=scarf
校服=school uniform
铠甲=armor
# animals
动物=animal
猫=cat
小猫=kitten
猫咪=cat
狗=dog
小狗=puppy
狗狗=dog
熊猫=panda
大熊猫=giant panda
老虎=tiger
狮子=lion
狐狸=fox
狼=wolf
熊=bear
兔子=rabbit
小兔子=bunny
鹿=deer
马=horse
牛=cow
羊=sheep
猪=pig
鸡=chicken
鸭子=duck
鸟=bird
小鸟=little bird
老鹰=eagle
猫头鹰=owl
孔雀=peacock
天鹅=swan
鹤=crane
仙鹤=red-crowned crane
鱼=fish
金鱼=goldfish
锦鲤=koi
鲸鱼=whale
海豚=dolphin
乌龟=turtle
蝴蝶=butterfly
蜜蜂=bee
龙=dragon
凤凰=phoenix
独角兽=unicorn
恐龙=dinosaur
松鼠=squirrel
猴子=monkey
大象=elephant
长颈鹿=giraffe
企鹅=penguin
羽毛=feathers
毛发=fur
# nature and scenes
风景=landscape
景色=scenery
山=mountain
山峰=mountain peak
高山=high mountains
雪山=snowy mountains
群山=mountain range
山谷=valley
森林=forest
树林=woods
丛林=jungle
树=tree
大树=big tree
樱花=cherry blossoms
樱花树=cherry blossom tree
竹林=bamboo forest
竹子=bamboo
花=flower
花朵=flowers
花海=sea of flowers
玫瑰=rose
向日葵=sunflower
荷花=lotus
莲花=lotus
郁金香=tulips
草地=meadow
草原=grassland
田野=fields
麦田=wheat field
稻田=rice paddies
沙漠=desert
海=sea
大海=ocean
海洋=ocean
海边=seaside
海滩=beach
沙滩=sandy beach
海浪=waves
湖=lake
湖泊=lake
湖面=lake surface
河=river
河流=river
小溪=stream
瀑布=waterfall
岛=island
小岛=small island
天空=sky
星空=starry sky
银河=milky way
星星=stars
月亮=moon
满月=full moon
太阳=sun
云=clouds
云朵=clouds
云海=sea of clouds
彩虹=rainbow
雪=snow
下雪=snowing
雪地=snowfield
雨=rain
下雨=raining
雨中=in the rain
雾=fog
雾气=mist
冰=ice
火=fire
火焰=flames
火山=volcano
石头=stones
岩石=rocks
悬崖=cliff
峡谷=canyon
洞穴=cave
宇宙=universe
太空=outer space
星球=planet
地球=earth
自然=nature
# time, weather, light
日出=sunrise
日落=sunset
黄昏=dusk
傍晚=evening
清晨=early morning
早晨=morning
白天=daytime
夜晚=night
夜景=night view
夜空=night sky
午后=afternoon
春天=spring
夏天=summer
秋天=autumn
冬天=winter
春=spring
夏=summer
秋=autumn
冬=winter
阳光=sunlight
月光=moonlight
灯光=lights
光线=light
光影=light and shadow
逆光=backlight
侧光=side light
柔光=soft light
自然光=natural light
暖光=warm light
冷光=cool light
霓虹灯=neon lights
霓虹=neon
烛光=candlelight
黄金时刻=golden hour
丁达尔效应=god rays
阴天=overcast
晴天=sunny day
# places and architecture
城市=city
都市=metropolis
街道=street
街头=street
小巷=alley
古镇=ancient town
村庄=village
乡村=countryside
建筑=architecture
建筑物=building
大楼=building
高楼=skyscraper
摩天大楼=skyscraper
房子=house
小屋=cottage
木屋=wooden cabin
城堡=castle
宫殿=palace
寺庙=temple
古寺=ancient temple
塔=tower
宝塔=pagoda
桥=bridge
长城=Great Wall
故宫=Forbidden City
教堂=church
图书馆=library
咖啡馆=cafe
咖啡店=coffee shop
餐厅=restaurant
商店=shop
花园=garden
公园=park
庭院=courtyard
室内=interior
客厅=living room
卧室=bedroom
厨房=kitchen
教室=classroom
办公室=office
窗户=window
窗边=by the window
门=door
楼梯=stairs
屋顶=rooftop
灯塔=lighthouse
港口=harbor
车站=station
地铁=subway
# objects and products
产品=product
商品=product
手机=smartphone
电脑=computer
相机=camera
手表=watch
耳机=headphones
香水=perfume
口红=lipstick
化妆品=cosmetics
瓶子=bottle
杯子=cup
书=book
书本=book
桌子=table
椅子=chair
沙发=sofa
床=bed
灯=lamp
灯笼=lantern
雨伞=umbrella
伞=umbrella
汽车=car
车=car
自行车=bicycle
摩托车=motorcycle
火车=train
飞机=airplane
船=boat
帆船=sailboat
机器人=robot
吉他=guitar
钢琴=piano
剑=sword
包=bag
鞋子=shoes
运动鞋=sneakers
珠宝=jewelry
项链=necklace
戒指=ring
礼物=gift
气球=balloons
蜡烛=candle
# food
美食=food
食物=food
蛋糕=cake
面包=bread
咖啡=coffee
茶=tea
奶茶=milk tea
水果=fruit
苹果=apple
草莓=strawberry
西瓜=watermelon
橙子=orange
葡萄=grapes
柠檬=lemon
火锅=hotpot
面条=noodles
拉面=ramen
饺子=dumplings
包子=steamed buns
米饭=rice
寿司=sushi
披萨=pizza
汉堡=burger
牛排=steak
甜点=dessert
冰淇淋=ice cream
巧克力=chocolate
饮料=drink
果汁=juice
啤酒=beer
红酒=red wine
月饼=mooncake
早餐=breakfast
# colours
红色=red
红=red
橙色=orange
黄色=yellow
黄=yellow
绿色=green
绿=green
蓝色=blue
蓝=blue
紫色=purple
紫=purple
粉色=pink
粉红色=pink
白色=white
白=white
黑色=black
黑=black
灰色=gray
棕色=brown
金色=golden
银色=silver
青色=cyan
彩色=colorful
五彩斑斓=colorful
黑白=black and white
# styles and media
海报=poster
宣传海报=promotional poster
电影海报=movie poster
封面=cover
杂志封面=magazine cover
标题=title
文字=text
字体=typography
标志=logo
插画=illustration
插图=illustration
动漫=anime
动画=animation
二次元=anime style
漫画=manga
卡通=cartoon
水彩=watercolor
水彩画=watercolor painting
油画=oil painting
国画=Chinese ink painting
水墨=ink wash
水墨画=ink wash painting
素描=sketch
版画=woodblock print
像素=pixel art
像素风=pixel art
赛博朋克=cyberpunk
蒸汽朋克=steampunk
科幻=sci-fi
奇幻=fantasy
魔幻=magical
童话=fairy tale
复古=retro
古风=traditional Chinese style
中国风=Chinese style
国潮=guochao style
极简=minimalist
简约=minimalist
写实=realistic
超写实=hyperrealistic
摄影=photography
照片=photo
电影感=cinematic
电影=film
梦幻=dreamy
唯美=aesthetic
可爱=cute
3D=3D
三维=3D
渲染=render
手绘=hand-drawn
扁平=flat design
剪纸=paper cut
黏土=clay
风格=style
风=style
倒映=reflecting
倒影=reflection
# composition and quality
特写=close-up
近景=close shot
远景=distant view
全景=panorama
俯视=top-down view
俯拍=high-angle shot
仰视=low-angle view
仰拍=low-angle shot
航拍=aerial view
广角=wide angle
背景=background
前景=foreground
居中=centered
对称=symmetrical
高清=high definition
细节=details
精致=exquisite
# adjectives
美丽=beautiful
漂亮=pretty
可爱的=cute
巨大=huge
巨大的=huge
小=small
大=big
古老=ancient
古代=ancient
现代=modern
未来=futuristic
未来感=futuristic
安静=quiet
宁静=serene
温暖=warm
寒冷=cold
明亮=bright
黑暗=dark
神秘=mysterious
壮观=spectacular
壮丽=majestic
浪漫=romantic
孤独=lonely
快乐=happy
开心=happy
悲伤=sad
优雅=elegant
华丽=gorgeous
干净=clean
透明=transparent
闪闪发光=sparkling
发光=glowing
毛茸茸=fluffy
# actions
奔跑=running
跑=running
走=walking
散步=strolling
站=standing
站着=standing
坐=sitting
坐着=sitting
躺=lying
躺着=lying
睡觉=sleeping
飞=flying
飞翔=flying
游泳=swimming
跳舞=dancing
唱歌=singing
看书=reading a book
读书=reading
喝=drinking
吃=eating
拿着=holding
抱着=hugging
看着=looking at
望着=gazing at
骑着=riding
弹=playing
玩=playing
玩耍=playing
钓鱼=fishing
下棋=playing chess
写字=writing
画画=painting
# festivals and materials
新年=new year
春节=Spring Festival
元宵=Lantern Festival
中秋=Mid-Autumn Festival
中秋节=Mid-Autumn Festival
端午=Dragon Boat Festival
圣诞=Christmas
圣诞节=Christmas
圣诞树=Christmas tree
节日=festival
烟花=fireworks
鞭炮=firecrackers
春联=spring couplets
风筝=kite
红包=red envelope
拿铁=latte
木=wooden
木桌=wooden table
木头=wood
石=stone
玻璃=glass
金属=metal
大理石=marble
丝绸=silk
皮革=leather
陶瓷=ceramic
台面=countertop
桌面=tabletop
放=placed
摆放=arranged
# layout and lettering (the typography stage leaves 留白 where quoted text will be drawn)
留白=blank space
留出空白=blank space
空白区域=blank area
画面=the picture
画面上方=the top of the picture
画面下方=the bottom of the picture
画面中间=the middle of the picture
画面中央=the middle of the picture
顶部=the top
底部=the bottom
上方=the top
下方=the bottom
左侧=the left side
右侧=the right side
左上角=the top left corner
右上角=the top right corner
左下角=the bottom left corner
右下角=the bottom right corner
招牌=signboard
霓虹灯招牌=neon signboard
横幅=banner
标牌=sign
手写=handwritten
涂鸦=graffiti
书法=calligraphy
毛笔字=brush lettering
标题=title
副标题=subtitle
文字=lettering
字体=typeface
有=with
# function words
和=and
与=and
还有=and
旁边=next to
中间=in the middle of
周围=around
上空=above
远处=in the distance
`;

/** 在 …X: the locative that closes a 在-phrase and its English preposition. */
export const LOCATIVES: Record<string, string> = {
  下: 'under',
  下面: 'under',
  底下: 'under',
  上: 'on',
  上面: 'on',
  上方: 'above',
  里: 'in',
  里面: 'in',
  中: 'in',
  内: 'inside',
  旁: 'beside',
  旁边: 'beside',
  边: 'by',
  前: 'in front of',
  前面: 'in front of',
  后: 'behind',
  后面: 'behind',
  外: 'outside',
  之间: 'between',
};

export const NUMERALS: Record<string, string> = {
  一: 'a',
  两: 'two',
  二: 'two',
  三: 'three',
  四: 'four',
  五: 'five',
  几: 'several',
  一群: 'a group of',
  一些: 'some',
  许多: 'many',
  很多: 'many',
};

export const MEASURE_WORDS = '只个位条头朵座张辆杯块片棵匹本把台幅双群艘架间栋盏碗盘束';

/** Measure words that carry meaning in English ("一碗拉面" → "a bowl of ramen"). */
export const MEASURE_EN: Record<string, string> = {
  碗: 'bowl of',
  杯: 'cup of',
  盘: 'plate of',
  双: 'pair of',
  群: 'group of',
  束: 'bouquet of',
  片: 'patch of',
};

/** Dropped in translation: structural particles and fillers. */
export const PARTICLES = new Set(['的', '地', '得', '着', '了', '正在', '在', '是', '有', '很', '非常']);
