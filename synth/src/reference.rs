//! Reference data: provinces and cities, dealer groups, names, models, complaint texts.

pub(crate) struct Province {
    pub(crate) short: &'static str,
    pub(crate) full: &'static str,
    pub(crate) plate: char,
    pub(crate) code: &'static str,
    pub(crate) region: &'static str,
    pub(crate) weight: u32,
    pub(crate) cities: &'static [City],
}

pub(crate) struct City {
    pub(crate) name: &'static str,
    /// Letters of the city's plates.
    pub(crate) plates: &'static str,
    /// First four digits of the administrative division code.
    pub(crate) code: u32,
    /// Districts: last two digits of the division code and name.
    pub(crate) districts: &'static [(u32, &'static str)],
}

macro_rules! city {
    ($name:literal, $plates:literal, $code:literal, [$(($d:literal, $dn:literal)),+ $(,)?]) => {
        City { name: $name, plates: $plates, code: $code, districts: &[$(($d, $dn)),+] }
    };
}

#[rustfmt::skip]
pub(crate) static PROVINCES: &[Province] = &[
    Province { short: "上海", full: "上海市", plate: '沪', code: "SH", region: "East", weight: 6, cities: &[
        city!("上海", "ABDEFGHJKLMN", 3101, [(1, "黄浦区"), (4, "徐汇区"), (5, "长宁区"), (6, "静安区"), (7, "普陀区"), (10, "杨浦区"), (12, "闵行区"), (13, "宝山区"), (15, "浦东新区")]),
    ] },
    Province { short: "北京", full: "北京市", plate: '京', code: "BJ", region: "North", weight: 5, cities: &[
        city!("北京", "ABCEFGHJKLMNPQ", 1101, [(1, "东城区"), (2, "西城区"), (5, "朝阳区"), (6, "丰台区"), (7, "石景山区"), (8, "海淀区")]),
    ] },
    Province { short: "天津", full: "天津市", plate: '津', code: "TJ", region: "North", weight: 2, cities: &[
        city!("天津", "ABCEFGHJKLMN", 1201, [(1, "和平区"), (2, "河东区"), (3, "河西区"), (4, "南开区"), (5, "河北区")]),
    ] },
    Province { short: "重庆", full: "重庆市", plate: '渝', code: "CQ", region: "West", weight: 3, cities: &[
        city!("重庆", "ABCDFGH", 5001, [(3, "渝中区"), (5, "江北区"), (6, "沙坪坝区"), (7, "九龙坡区"), (8, "南岸区"), (12, "渝北区")]),
    ] },
    Province { short: "江苏", full: "江苏省", plate: '苏', code: "JS", region: "East", weight: 11, cities: &[
        city!("南京", "A", 3201, [(2, "玄武区"), (4, "秦淮区"), (5, "建邺区"), (6, "鼓楼区"), (13, "栖霞区"), (15, "江宁区")]),
        city!("苏州", "E", 3205, [(5, "虎丘区"), (6, "吴中区"), (7, "相城区"), (8, "姑苏区")]),
        city!("无锡", "B", 3202, [(5, "锡山区"), (6, "惠山区"), (11, "滨湖区"), (13, "梁溪区")]),
        city!("常州", "D", 3204, [(2, "天宁区"), (4, "钟楼区"), (11, "新北区"), (12, "武进区")]),
    ] },
    Province { short: "浙江", full: "浙江省", plate: '浙', code: "ZJ", region: "East", weight: 10, cities: &[
        city!("杭州", "A", 3301, [(2, "上城区"), (5, "拱墅区"), (6, "西湖区"), (8, "滨江区"), (9, "萧山区"), (10, "余杭区")]),
        city!("宁波", "B", 3302, [(3, "江北区"), (6, "北仑区"), (12, "鄞州区")]),
        city!("温州", "C", 3303, [(2, "鹿城区"), (3, "龙湾区"), (4, "瓯海区")]),
        city!("嘉兴", "F", 3304, [(2, "南湖区"), (11, "秀洲区")]),
    ] },
    Province { short: "山东", full: "山东省", plate: '鲁', code: "SD", region: "East", weight: 8, cities: &[
        city!("济南", "A", 3701, [(2, "历下区"), (3, "市中区"), (4, "槐荫区"), (5, "天桥区"), (12, "历城区")]),
        city!("青岛", "B", 3702, [(2, "市南区"), (3, "市北区"), (11, "黄岛区"), (12, "崂山区"), (13, "李沧区")]),
        city!("烟台", "F", 3706, [(2, "芝罘区"), (11, "福山区"), (13, "莱山区")]),
    ] },
    Province { short: "安徽", full: "安徽省", plate: '皖', code: "AH", region: "East", weight: 4, cities: &[
        city!("合肥", "A", 3401, [(2, "瑶海区"), (3, "庐阳区"), (4, "蜀山区"), (11, "包河区")]),
        city!("芜湖", "B", 3402, [(2, "镜湖区"), (7, "弋江区"), (8, "鸠江区")]),
    ] },
    Province { short: "福建", full: "福建省", plate: '闽', code: "FJ", region: "South", weight: 4, cities: &[
        city!("福州", "A", 3501, [(2, "鼓楼区"), (3, "台江区"), (4, "仓山区"), (5, "马尾区")]),
        city!("厦门", "D", 3502, [(3, "思明区"), (5, "海沧区"), (6, "湖里区"), (11, "集美区")]),
    ] },
    Province { short: "广东", full: "广东省", plate: '粤', code: "GD", region: "South", weight: 12, cities: &[
        city!("广州", "A", 4401, [(3, "荔湾区"), (4, "越秀区"), (5, "海珠区"), (6, "天河区"), (11, "白云区"), (13, "番禺区")]),
        city!("深圳", "B", 4403, [(3, "罗湖区"), (4, "福田区"), (5, "南山区"), (6, "宝安区"), (7, "龙岗区")]),
        city!("佛山", "E", 4406, [(4, "禅城区"), (5, "南海区"), (6, "顺德区")]),
        city!("东莞", "S", 4419, [(0, "南城街道"), (0, "东城街道"), (0, "松山湖")]),
    ] },
    Province { short: "广西", full: "广西壮族自治区", plate: '桂', code: "GX", region: "South", weight: 2, cities: &[
        city!("南宁", "A", 4501, [(2, "兴宁区"), (3, "青秀区"), (7, "西乡塘区")]),
    ] },
    Province { short: "海南", full: "海南省", plate: '琼', code: "HI", region: "South", weight: 1, cities: &[
        city!("海口", "A", 4601, [(5, "秀英区"), (6, "龙华区"), (7, "琼山区"), (8, "美兰区")]),
    ] },
    Province { short: "河北", full: "河北省", plate: '冀', code: "HE", region: "North", weight: 5, cities: &[
        city!("石家庄", "A", 1301, [(2, "长安区"), (4, "桥西区"), (5, "新华区"), (8, "裕华区")]),
        city!("唐山", "B", 1302, [(2, "路南区"), (3, "路北区")]),
    ] },
    Province { short: "山西", full: "山西省", plate: '晋', code: "SX", region: "North", weight: 2, cities: &[
        city!("太原", "A", 1401, [(5, "小店区"), (6, "迎泽区"), (7, "杏花岭区"), (9, "万柏林区")]),
    ] },
    Province { short: "内蒙古", full: "内蒙古自治区", plate: '蒙', code: "NM", region: "North", weight: 1, cities: &[
        city!("呼和浩特", "A", 1501, [(2, "新城区"), (3, "回民区"), (5, "赛罕区")]),
    ] },
    Province { short: "河南", full: "河南省", plate: '豫', code: "HA", region: "Central", weight: 6, cities: &[
        city!("郑州", "A", 4101, [(2, "中原区"), (3, "二七区"), (4, "管城回族区"), (5, "金水区")]),
        city!("洛阳", "C", 4103, [(2, "老城区"), (3, "西工区"), (5, "涧西区")]),
    ] },
    Province { short: "湖北", full: "湖北省", plate: '鄂', code: "HB", region: "Central", weight: 5, cities: &[
        city!("武汉", "A", 4201, [(2, "江岸区"), (3, "江汉区"), (4, "硚口区"), (5, "汉阳区"), (6, "武昌区"), (11, "洪山区")]),
        city!("宜昌", "E", 4205, [(2, "西陵区"), (3, "伍家岗区")]),
    ] },
    Province { short: "湖南", full: "湖南省", plate: '湘', code: "HN", region: "Central", weight: 4, cities: &[
        city!("长沙", "A", 4301, [(2, "芙蓉区"), (3, "天心区"), (4, "岳麓区"), (5, "开福区"), (11, "雨花区")]),
    ] },
    Province { short: "江西", full: "江西省", plate: '赣', code: "JX", region: "Central", weight: 2, cities: &[
        city!("南昌", "A", 3601, [(2, "东湖区"), (3, "西湖区"), (4, "青云谱区"), (11, "青山湖区")]),
    ] },
    Province { short: "四川", full: "四川省", plate: '川', code: "SC", region: "West", weight: 6, cities: &[
        city!("成都", "A", 5101, [(4, "锦江区"), (5, "青羊区"), (6, "金牛区"), (7, "武侯区"), (8, "成华区")]),
        city!("绵阳", "B", 5107, [(3, "涪城区"), (4, "游仙区")]),
    ] },
    Province { short: "云南", full: "云南省", plate: '云', code: "YN", region: "West", weight: 2, cities: &[
        city!("昆明", "A", 5301, [(2, "五华区"), (3, "盘龙区"), (11, "官渡区"), (12, "西山区")]),
    ] },
    Province { short: "贵州", full: "贵州省", plate: '贵', code: "GZ", region: "West", weight: 1, cities: &[
        city!("贵阳", "A", 5201, [(2, "南明区"), (3, "云岩区"), (11, "花溪区")]),
    ] },
    Province { short: "陕西", full: "陕西省", plate: '陕', code: "SN", region: "West", weight: 3, cities: &[
        city!("西安", "A", 6101, [(2, "新城区"), (3, "碑林区"), (4, "莲湖区"), (11, "灞桥区"), (13, "雁塔区")]),
    ] },
    Province { short: "甘肃", full: "甘肃省", plate: '甘', code: "GS", region: "West", weight: 1, cities: &[
        city!("兰州", "A", 6201, [(2, "城关区"), (3, "七里河区"), (4, "西固区")]),
    ] },
    Province { short: "新疆", full: "新疆维吾尔自治区", plate: '新', code: "XJ", region: "West", weight: 1, cities: &[
        city!("乌鲁木齐", "A", 6501, [(2, "天山区"), (3, "沙依巴克区"), (4, "新市区")]),
    ] },
    Province { short: "辽宁", full: "辽宁省", plate: '辽', code: "LN", region: "Northeast", weight: 3, cities: &[
        city!("沈阳", "A", 2101, [(2, "和平区"), (3, "沈河区"), (4, "大东区"), (5, "皇姑区"), (6, "铁西区")]),
        city!("大连", "B", 2102, [(2, "中山区"), (3, "西岗区"), (4, "沙河口区"), (11, "甘井子区")]),
    ] },
    Province { short: "吉林", full: "吉林省", plate: '吉', code: "JL", region: "Northeast", weight: 2, cities: &[
        city!("长春", "A", 2201, [(2, "南关区"), (3, "宽城区"), (4, "朝阳区"), (5, "二道区")]),
    ] },
    Province { short: "黑龙江", full: "黑龙江省", plate: '黑', code: "HL", region: "Northeast", weight: 2, cities: &[
        city!("哈尔滨", "A", 2301, [(2, "道里区"), (3, "南岗区"), (4, "道外区"), (8, "平房区"), (9, "松北区")]),
    ] },
];

pub(crate) static DEALER_GROUPS: &[&str] = &[
    "永达",
    "广汇",
    "中升",
    "庞大",
    "利星行",
    "恒信",
    "申蓉",
    "润东",
    "元通",
    "宝利",
    "和谐",
    "物产",
    "正通",
    "冠德",
    "运通",
    "东昌",
];

#[rustfmt::skip]
pub(crate) static SURNAMES: &[(&str, u32)] = &[
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 23), ("赵", 22),
    ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13), ("胡", 13), ("郭", 12),
    ("何", 12), ("高", 11), ("林", 11), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7),
    ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 2), ("贾", 2), ("夏", 2),
    ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
    ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2), ("侯", 2),
    ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2),
    ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2), ("覃", 1), ("武", 1), ("戴", 1),
    ("莫", 1), ("孔", 1),
];

pub(crate) static COMPOUND_SURNAMES: &[&str] =
    &["欧阳", "司马", "上官", "诸葛", "司徒", "东方", "皇甫"];

pub(crate) static MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宁", "建", "俊", "峰", "浩", "宇", "博", "志", "国", "东", "海", "亮", "成", "龙",
    "健", "凯", "晨", "阳", "洋", "旭", "昊", "轩", "睿", "振", "永", "庆", "荣", "彬", "毅", "威",
];

pub(crate) static FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "婷", "雪", "慧", "琳", "颖", "倩",
    "洁", "璐", "佳", "欣", "怡", "萍", "红", "梅", "丹", "莉", "晶", "燕", "琴", "云", "兰", "凤",
    "茜", "悦", "思", "雨", "梦", "诗", "彤", "欢", "瑶", "蕾",
];

pub(crate) static NEUTRAL_CHARS: &[&str] = &[
    "小", "文", "晓", "春", "海", "安", "一", "嘉", "子", "新", "立", "天", "家", "志", "婉", "明",
];

pub(crate) static OCCUPATIONS: &[&str] = &[
    "教师",
    "医生",
    "工程师",
    "公务员",
    "个体经营",
    "销售经理",
    "软件工程师",
    "会计",
    "律师",
    "护士",
    "企业主",
    "设计师",
    "司机",
    "自由职业",
    "银行职员",
    "研究员",
    "财务总监",
    "项目经理",
];

pub(crate) static EMPLOYERS: &[&str] = &[
    "{}市第一人民医院",
    "{}市实验中学",
    "中国银行{}分行",
    "{}地铁集团有限公司",
    "华为技术有限公司",
    "{}市税务局",
    "中国移动{}分公司",
    "{}大学",
    "国家电网{}供电公司",
    "阿里巴巴集团",
    "{}市人民政府",
    "中国石化{}分公司",
];

pub(crate) static INTERESTS: &[&str] = &[
    "自驾游",
    "高尔夫",
    "摄影",
    "钓鱼",
    "跑步",
    "露营",
    "骑行",
    "美食",
    "亲子活动",
    "音乐",
    "羽毛球",
    "健身",
    "茶艺",
    "书法",
    "越野",
    "电竞",
];

pub(crate) static ROADS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "文化路",
    "胜利路",
    "青年路",
    "光明路",
    "东风路",
    "学府路",
    "滨江大道",
    "世纪大道",
    "迎宾大道",
    "朝阳街",
];

pub(crate) static ORG_WORDS: &[&str] = &[
    "恒通", "华信", "中联", "宏达", "天成", "锦程", "鼎盛", "新元", "金桥", "博远", "瑞丰", "安达",
    "众诚", "远航", "鸿运", "盛世", "嘉禾", "万通", "合力", "长城",
];

/// (part of the company name, industry).
pub(crate) static ORG_INDUSTRIES: &[(&str, &str)] = &[
    ("物流", "物流"),
    ("汽车租赁", "汽车租赁"),
    ("建设工程", "建筑"),
    ("信息科技", "信息技术"),
    ("商贸", "批发零售"),
    ("医药", "医药"),
    ("食品", "食品"),
    ("物业管理", "物业"),
    ("出租汽车", "出租车"),
    ("电力工程", "能源"),
    ("环保科技", "环保"),
    ("房地产开发", "房地产"),
];

/// A model of the line-up.
pub(crate) struct Model {
    pub(crate) brand: &'static str,
    pub(crate) name: &'static str,
    /// World manufacturer identifier.
    pub(crate) wmi: &'static str,
    /// VIN positions 4–7.
    pub(crate) vds: &'static str,
    /// New price range in thousands of yuan.
    pub(crate) price: (u32, u32),
    /// Weight among private buyers.
    pub(crate) weight: u32,
    /// Weight among fleet buyers.
    pub(crate) fleet: u32,
    /// Service cost in percent of a compact car's.
    pub(crate) cost: i64,
    pub(crate) trims: &'static [&'static str],
}

#[rustfmt::skip]
pub(crate) static MODELS: &[Model] = &[
    Model { brand: "Volkswagen", name: "Santana", wmi: "LSV", vds: "AA2C", price: (80, 110), weight: 10, fleet: 8, cost: 90, trims: &["1.5L 手动风尚版", "1.5L 自动舒适版", "1.5L 自动豪华版"] },
    Model { brand: "Volkswagen", name: "Lavida", wmi: "LSV", vds: "AB2L", price: (110, 160), weight: 20, fleet: 5, cost: 100, trims: &["1.5L 自动风尚版", "280TSI DSG 舒适版", "280TSI DSG 星空版"] },
    Model { brand: "Volkswagen", name: "Jetta", wmi: "LFV", vds: "AC3J", price: (80, 120), weight: 6, fleet: 5, cost: 90, trims: &["VA3 1.5L 自动进取版", "VS5 280TSI 悦享版", "VS7 280TSI 荣耀版"] },
    Model { brand: "Volkswagen", name: "Bora", wmi: "LFV", vds: "AD2B", price: (110, 150), weight: 10, fleet: 2, cost: 100, trims: &["1.5L 自动熠动版", "280TSI DSG 精英版"] },
    Model { brand: "Volkswagen", name: "Sagitar", wmi: "LFV", vds: "AE2S", price: (130, 180), weight: 14, fleet: 3, cost: 105, trims: &["200TSI DSG 时尚版", "280TSI DSG 舒适版", "300TSI DSG 旗舰版"] },
    Model { brand: "Volkswagen", name: "Passat", wmi: "LSV", vds: "AF3P", price: (180, 260), weight: 10, fleet: 6, cost: 120, trims: &["280TSI 精英版", "330TSI 豪华版", "380TSI 旗舰版"] },
    Model { brand: "Volkswagen", name: "Magotan", wmi: "LFV", vds: "AG3M", price: (180, 280), weight: 8, fleet: 5, cost: 120, trims: &["280TSI 商务版", "330TSI 豪华版", "380TSI 旗舰版"] },
    Model { brand: "Volkswagen", name: "Tiguan L", wmi: "LSV", vds: "AH4T", price: (200, 300), weight: 9, fleet: 2, cost: 125, trims: &["280TSI 两驱精英版", "330TSI 四驱豪华版", "380TSI 四驱旗舰版"] },
    Model { brand: "Volkswagen", name: "Tayron", wmi: "LFV", vds: "AJ4Y", price: (220, 300), weight: 4, fleet: 1, cost: 125, trims: &["330TSI 两驱豪华版", "380TSI 四驱旗舰版"] },
    Model { brand: "Volkswagen", name: "Touran L", wmi: "LSV", vds: "AK5R", price: (160, 220), weight: 3, fleet: 3, cost: 115, trims: &["280TSI 七座舒适版", "330TSI 七座豪华版"] },
    Model { brand: "Volkswagen", name: "Teramont", wmi: "LSV", vds: "AL6E", price: (290, 400), weight: 3, fleet: 1, cost: 140, trims: &["380TSI 四驱豪华版", "530V6 四驱旗舰版"] },
    Model { brand: "Audi", name: "A4L", wmi: "LFV", vds: "BM4A", price: (300, 400), weight: 4, fleet: 1, cost: 170, trims: &["40 TFSI 时尚动感型", "45 TFSI quattro 臻选动感型"] },
    Model { brand: "Audi", name: "A6L", wmi: "LFV", vds: "BN6A", price: (400, 500), weight: 3, fleet: 2, cost: 190, trims: &["45 TFSI 臻选致雅型", "45 TFSI quattro 臻选动感型", "55 TFSI quattro 旗舰型"] },
    Model { brand: "Audi", name: "Q5L", wmi: "LFV", vds: "BP5K", price: (380, 500), weight: 3, fleet: 0, cost: 180, trims: &["40 TFSI 时尚动感型", "45 TFSI 豪华动感型"] },
];

/// VIN characters (no I, O, Q).
pub(crate) const VIN_CHARS: &[u8; 33] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
/// Letters of plate serials (no I, O).
pub(crate) const PLATE_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
/// VIN model-year codes from 1980, repeating every 30 years.
pub(crate) const YEAR_CODES: &[u8; 30] = b"ABCDEFGHJKLMNPRSTVWXY123456789";
/// The 30 mobile prefixes numbers are drawn from.
pub(crate) static MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "185", "186",
    "187", "188", "189", "199",
];

/// Complaint categories with typical notes.
pub(crate) static COMPLAINTS: &[(&str, &[&str])] = &[
    (
        "repair quality",
        &[
            "保养后发动机异响仍未解决",
            "维修后同一故障再次出现",
            "更换零件后仍有漏油",
        ],
    ),
    (
        "service attitude",
        &["服务顾问态度冷淡，不解释维修项目", "前台长时间无人接待"],
    ),
    (
        "waiting time",
        &["常规保养等待超过四小时", "预约到店后仍需排队"],
    ),
    ("billing", &["结算金额与报价不符", "未经同意增加维修项目"]),
    (
        "product quality",
        &["车机系统频繁死机", "空调出风有异味", "低速换挡顿挫"],
    ),
    ("parts availability", &["配件缺货，等待超过两周"]),
];

pub(crate) static SALES_COMPLAINTS: &[&str] = &["销售顾问承诺的优惠未兑现", "试驾预约后无人接待"];

pub(crate) static LOST_REASONS: &[&str] = &[
    "已购买竞品",
    "价格超出预算",
    "暂缓购车",
    "多次联系未接通",
    "贷款审批未通过",
    "等待新款上市",
];
