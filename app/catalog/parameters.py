"""Canonical parameter keys: the catalog's Chinese-and-English names mapped to snake_case keys.

Results in an inspection name these keys, so the same substance always meets the same limit.
"""

from __future__ import annotations

import re

# Chinese name (as it opens the catalog's parameter text) -> canonical key.
# Longer names first where one begins another (酸价(以脂肪计) before 酸价).
KEYS_BY_ZH: dict[str, str] = {
    "酸价(以脂肪计)": "acid_value",
    "过氧化值(以脂肪计)": "peroxide_value",
    "酸价": "acid_value",
    "过氧化值": "peroxide_value",
    "茶梗": "stem_content",
    "水分": "moisture",
    "总灰分": "total_ash",
    "非茶类夹杂物": "non_tea_inclusions",
    "水浸出物": "water_extract",
    "氟": "fluoride",
    "粉末和碎茶": "powder_and_broken_tea",
    "溶剂残留量": "solvent_residue",
    "脂肪酸组成": "fatty_acid_profile",
    "极性组分": "polar_components",
    "果梗长度": "stalk_length",
    "可溶性固形物": "soluble_solids",
    "单果重": "fruit_weight",
    "菌落总数": "aerobic_plate_count",
    "大肠菌群": "coliforms",
    "霉菌": "moulds",
    "干燥失重": "loss_on_drying",
    "铝的残留量": "aluminium_residue",
    "铅": "lead",
    "镉": "cadmium",
    "苯并[a]芘": "benzo_a_pyrene",
    "总砷": "total_arsenic",
    "总汞": "total_mercury",
    "铬": "chromium",
    "食品添加剂": "food_additives",
    "相对湿度": "relative_humidity",
    "沙门氏菌": "salmonella",
    "金黄色葡萄球菌": "staphylococcus_aureus",
    "黄曲霉毒素B1": "aflatoxin_b1",
    "草甘膦": "pesticide.glyphosate",
    "氟啶虫酰胺": "pesticide.flonicamid",
    "唑螨酯": "pesticide.fenpyroximate",
    "吡虫啉": "pesticide.imidacloprid",
    "啶虫脒": "pesticide.acetamiprid",
    "联苯菊酯": "pesticide.bifenthrin",
    "多菌灵": "pesticide.carbendazim",
    "氯氰菊酯和高效氯氰菊酯": "pesticide.cypermethrin",
    "氰戊菊酯和S-氰戊菊酯": "pesticide.fenvalerate",
    "代森锌": "pesticide.zineb",
    "马拉硫磷": "pesticide.malathion",
    "灭草松": "pesticide.bentazone",
    "仲丁威": "pesticide.fenobucarb",
    "六六六": "pesticide.hch",
    "滴滴涕": "pesticide.ddt",
    "甲胺磷": "pesticide.methamidophos",
    "克百威": "pesticide.carbofuran",
    "草铵膦": "pesticide.glufosinate",
    "茚虫威": "pesticide.indoxacarb",
    "吡蚜酮": "pesticide.pymetrozine",
    "虫螨腈": "pesticide.chlorfenapyr",
    "溴氰菊酯": "pesticide.deltamethrin",
    "苯醚甲环唑": "pesticide.difenoconazole",
    "噻虫嗪": "pesticide.thiamethoxam",
    "氯氟氰菊酯和高效氯氟氰菊酯": "pesticide.cyhalothrin",
}

_ZH_FIRST = sorted(KEYS_BY_ZH, key=len, reverse=True)
_SPLIT = re.compile(r"\s+(?=[A-Za-z])")


def split_names(raw: str) -> tuple[str, str | None]:
    """'草甘膦 glyphosate' -> ('草甘膦', 'glyphosate'): Chinese first, English after a space."""
    parts = _SPLIT.split(raw.strip(), maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else None)


def parameter_key(raw: str) -> str:
    """The canonical key of a catalog parameter; unknown ones get a key from the English name."""
    zh, en = split_names(raw)
    for name in _ZH_FIRST:
        if zh.startswith(name):
            return KEYS_BY_ZH[name]
    basis = en or zh
    key = re.sub(r"[^a-z0-9]+", "_", basis.lower()).strip("_")
    return key or "unknown"


def known_keys() -> frozenset[str]:
    return frozenset(KEYS_BY_ZH.values())
