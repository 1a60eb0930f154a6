"""The six product lines (一县一品): their stages in order and what each stage records.

Pure data. ``catalog load`` writes it into ``product_lines``; the stage-order check and the
stage-data schemas read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STAGE_NAMES: dict[str, tuple[str, str]] = {
    "seedling": ("育苗", "Seedling"),
    "planting": ("种植", "Planting"),
    "harvest": ("采收", "Harvest"),
    "processing": ("加工", "Processing"),
    "packing": ("包装", "Packing"),
    "storage": ("储存", "Storage"),
    "transport": ("运输", "Transport"),
    "sale": ("销售", "Sale"),
    "after_sale": ("售后", "After sale"),
    "amendment": ("更正", "Correction"),
}


@dataclass(frozen=True)
class ExtraField:
    """A stage field one product line adds to the shared ones."""

    name: str
    kind: str  # "str", "number" or "choice"
    zh: str
    en: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductSpec:
    key: str
    name_zh: str
    name_en: str
    county_zh: str
    county_en: str
    lot_prefix: str
    stages: tuple[str, ...]
    # Product-quality and traceability standards a batch takes by default (by code). The
    # mandatory national standards that apply are bound on top of these, always.
    default_standards: tuple[str, ...]
    extra_fields: dict[str, tuple[ExtraField, ...]] = field(default_factory=dict)
    processing_steps: tuple[str, ...] = ()
    # Mandatory standards the catalog lists for this product that do not judge the product itself,
    # with the catalog's own reason. Kept out of the batch's bound standards (invariant 7 binds the
    # limits *for its product*).
    not_bound: dict[str, str] = field(default_factory=dict)


_GROWN = ("seedling", "planting", "harvest")
_AFTER = ("packing", "storage", "transport", "sale", "after_sale")

PRODUCTS: dict[str, ProductSpec] = {
    p.key: p
    for p in (
        ProductSpec(
            key="osmanthus",
            name_zh="咸宁桂花",
            name_en="Xianning osmanthus",
            county_zh="咸宁市咸安区",
            county_en="Xian'an District, Xianning",
            lot_prefix="OS",
            stages=(*_GROWN, "processing", *_AFTER),
            default_standards=("GH/T 1117-2015", "GB/T 33915-2017"),
            extra_fields={
                "harvest": (ExtraField("variety", "choice", "品种", "Variety", ("金桂", "银桂", "丹桂", "四季桂")),),
                "processing": (ExtraField("method", "choice", "工艺", "Method", ("drying", "scenting", "candying")),),
            },
            processing_steps=("摊晾", "烘干", "窨制", "糖渍"),
        ),
        ProductSpec(
            key="lotus_root",
            name_zh="嘉鱼莲藕",
            name_en="Jiayu lotus root",
            county_zh="嘉鱼县",
            county_en="Jiayu County",
            lot_prefix="LR",
            stages=(*_GROWN, "processing", *_AFTER),
            default_standards=("NY/T 1993-2011",),
            extra_fields={
                "planting": (ExtraField("pond_area_mu", "number", "藕塘面积(亩)", "Pond area (mu)"),),
                "harvest": (ExtraField("variety", "str", "品种", "Variety"),),
            },
            processing_steps=("清洗", "分级", "预冷"),
        ),
        ProductSpec(
            key="brick_tea",
            name_zh="赤壁青砖茶",
            name_en="Chibi green brick tea",
            county_zh="赤壁市",
            county_en="Chibi City",
            lot_prefix="BT",
            stages=(*_GROWN, "processing", *_AFTER),
            default_standards=("GB/T 9833.9-2013", "T/CTMA 006-2019", "GB/T 33915-2017"),
            extra_fields={
                "harvest": (ExtraField("leaf_grade", "str", "鲜叶等级", "Leaf grade"),),
            },
            processing_steps=("杀青", "揉捻", "渥堆", "压制", "干燥"),
        ),
        ProductSpec(
            key="camellia_oil",
            name_zh="黄袍山(通城)茶油",
            name_en="Huangpaoshan camellia oil",
            county_zh="通城县",
            county_en="Tongcheng County",
            lot_prefix="CO",
            stages=(*_GROWN, "processing", *_AFTER),
            default_standards=("GB/T 11765-2018",),
            extra_fields={
                "processing": (
                    ExtraField(
                        "pressing_method", "choice", "压榨方式", "Pressing", ("cold", "hot", "aqueous_enzymatic")
                    ),
                ),
            },
            processing_steps=("晒干", "脱壳", "压榨", "过滤", "精炼", "灌装"),
        ),
        ProductSpec(
            key="mahua",
            name_zh="众望(崇阳)麻花",
            name_en="Chongyang mahua",
            county_zh="崇阳县",
            county_en="Chongyang County",
            lot_prefix="MH",
            stages=("processing", *_AFTER),
            default_standards=("GB/T 20977-2007", "GB/T 20977-2024"),
            extra_fields={
                "processing": (ExtraField("frying_oil_temperature_c", "number", "油温(℃)", "Frying oil (°C)"),),
            },
            processing_steps=("和面", "醒面", "搓条", "成型", "油炸", "冷却"),
            not_bound={
                "GB 2716-2018": (
                    "catalog note: for mahua, GB 2716 applies to the frying oil in use, not to the finished snack"
                ),
            },
        ),
        ProductSpec(
            key="loquat",
            name_zh="通山枇杷",
            name_en="Tongshan loquat",
            county_zh="通山县",
            county_en="Tongshan County",
            lot_prefix="LQ",
            stages=(*_GROWN, *_AFTER),
            default_standards=("GB/T 13867-1992", "NY/T 1762-2009"),
            extra_fields={
                "harvest": (
                    ExtraField("variety", "str", "品种", "Variety"),
                    ExtraField("brix", "number", "可溶性固形物(%)", "Soluble solids (%)"),
                ),
            },
        ),
    )
}


# Requirements the catalog leaves without a ``product`` although their own text names the food they
# bind. Without this they would bind every product line their standard applies to (GB 2760 applies
# to "all"), and no tea or fruit batch could ever be complete. Read from the catalog's own words,
# not added facts: GB 2760-2024's aluminium row says "油炸面制品" (fried flour products), which among
# the six lines is mahua alone.
TEXT_SCOPED_REQUIREMENTS: dict[tuple[str, str], str] = {
    ("GB 2760-2024", "aluminium_residue"): "mahua",
}
