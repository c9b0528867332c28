"""Chinese names for the demo: enterprises, projects, industries (GB/T 4754-2017 divisions)."""

from __future__ import annotations

import numpy as np

__all__ = ["CHAINS", "QUARTZ_DEEP", "QUARTZ_PRODUCTS", "enterprise_names", "pick_code", "product_for"]

#: leading industry chains (主导产业) → (GB/T 4754-2017 division, weight)
CHAINS: dict[str, list[tuple[str, float]]] = {
    "新能源装备": [("C38", 0.7), ("C34", 0.15), ("C39", 0.15)],
    "绿色食品精深加工": [("C13", 0.5), ("C14", 0.35), ("C15", 0.15)],
    "新材料": [("C30", 0.5), ("C29", 0.3), ("C26", 0.2)],
    "其他制造业": [("C33", 0.3), ("C34", 0.2), ("C17", 0.15), ("C18", 0.15), ("C21", 0.1), ("C22", 0.1)],
    "现代物流": [("G59", 1.0)],
}

_PRODUCTS = {
    "C38": [
        "光伏组件",
        "锂离子电池",
        "储能系统集成",
        "电线电缆",
        "光伏支架",
        "变压器",
        "充电桩",
        "电池储能柜",
    ],
    "C34": ["风电齿轮箱", "风机轴承", "液压设备", "输送机械"],
    "C39": ["光伏逆变器", "电子元器件", "电池管理系统", "柔性电路板"],
    "C13": ["面粉及挂面", "大豆精深加工", "畜禽屠宰及肉制品", "饲料", "植物油"],
    "C14": ["速冻食品", "烘焙食品", "方便食品", "调味品", "乳制品"],
    "C15": ["果蔬饮料", "白酒", "包装饮用水"],
    "C30": ["新型墙体材料", "特种玻璃", "商品混凝土", "玻璃纤维"],
    "C29": ["改性塑料", "塑料管材", "橡胶制品"],
    "C26": ["功能性涂料", "胶粘剂", "电子化学品"],
    "C33": ["钢结构件", "五金制品", "金属门窗"],
    "C17": ["棉纺纱线", "无纺布"],
    "C18": ["服装", "针织服饰"],
    "C21": ["实木家具", "板式家具"],
    "C22": ["包装纸箱", "纸制品"],
    "G59": ["冷链物流", "仓储物流", "电商分拨"],
}
_INDUSTRY_WORD = {
    "C38": "新能源科技",
    "C34": "机械制造",
    "C39": "电子科技",
    "C13": "食品",
    "C14": "食品",
    "C15": "饮品",
    "C30": "新材料",
    "C29": "塑业",
    "C26": "化工材料",
    "C33": "金属制品",
    "C17": "纺织",
    "C18": "服饰",
    "C21": "家居",
    "C22": "包装",
    "G59": "物流",
    "B10": "石英砂",
}
_ZIHAO = (
    "鑫源 华辰 恒泰 中科 皖北 金石 天润 瑞丰 宏达 永盛 晶科 隆基 盛华 润禾 佳美 康旺 绿源 丰谷 益康 德顺 嘉诚 "
    "汇通 正泰 聚力 博远 新宇 创维 晟泰 亿嘉 宏图 冠华 瑞祥 远航 东方 信达 科隆 启明 星辉 弘毅 华耀 凯越 同创 "
    "明阳 泰和 福润 安泰 昌盛 荣达 兴旺 鼎盛 卓越 欣荣 万通 海川 天成 金鹏 华信 锦程 宝丰 高晶 石英 晶瑞 硅谷 "
    "恒昌 和美 百川 金禾 沃土 稻香 麦香 豆源 果园 春晖 银河 蓝天 青山 淮润 汴水 涡河 皖丰 临泉 界首 楚韵 徽商 "
    "国润 辰星 翔宇 龙腾 凤鸣 云帆 天地 四季 五洲 九州 乾元 坤泰 泽润 川流 旭日 晨光 朝阳 新锐 领航 智造 鸿运"
).split()

QUARTZ_PRODUCTS = ["石英砂开采", "石英砂加工", "石英砂擦洗加工", "石英砂筛分", "石英粉加工", "硅微粉加工"]
QUARTZ_DEEP = ["高纯石英砂", "光伏玻璃", "石英坩埚"]


def enterprise_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct 字号 (trade names), in a random order."""
    if n <= len(_ZIHAO):
        return [str(x) for x in rng.permutation(_ZIHAO)[:n]]
    pairs = [a + b[0] for a in _ZIHAO for b in _ZIHAO if a != b]
    return [str(x) for x in rng.permutation(pairs)[:n]]


def pick_code(chain: str, rng: np.random.Generator) -> str:
    """An industry division of the chain, by weight."""
    codes, weights = zip(*CHAINS[chain], strict=True)
    return str(rng.choice(codes, p=np.array(weights) / sum(weights)))


def product_for(code: str, rng: np.random.Generator) -> tuple[str, str]:
    """(product, enterprise industry word) for a division."""
    return str(rng.choice(_PRODUCTS[code])), _INDUSTRY_WORD[code]
