"""The six product lines (一县一品): their stages in order and what each stage records.

Pure data. ``catalog load`` writes it into ``product_lines``; the stage-order check and the
stage-data schemas read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.i18n import N_

# Product forms (产品形态): which form of a product a requirement binds, and a batch is. One
# vocabulary for the catalog and the batches; a product line lists the tags it may carry. Each
# name is a Chinese source string (English in the message catalog).
FORM_NAMES: dict[str, str] = {
    "crude_oil": N_("植物原油"),
    "edible_oil": N_("食用植物油(成品油)"),
    "pressed": N_("压榨油"),
    "solvent_extracted": N_("浸出油"),
    "fresh_flower": N_("鲜桂花"),
    "scented_tea": N_("桂花茶(窨制花茶)"),
    "sugared": N_("糖桂花"),
    "fresh": N_("鲜品"),
    "processed": N_("加工品"),
    "fresh_leaf": N_("茶鲜叶"),
    "finished_tea": N_("成品茶"),
}

# Foods a standard names that none of the six lines is (GB 2716's frying oil in use, GB 2761's
# peanut and corn oil). A requirement scoped to these alone binds no batch here; the catalog keeps
# it so the standard reads as its source gives it.
OTHER_FOODS: dict[str, str] = {
    "frying_oil": N_("煎炸过程中的食用植物油"),
    "peanut_oil": N_("花生油"),
    "corn_oil": N_("玉米油"),
}

# What ``Requirement.scoped_product`` gives for a requirement that binds none of the six lines:
# a key no product line has, so "the requirement names a product" never matches a batch.
NO_PRODUCT_LINE = "none"


@dataclass(frozen=True)
class ExtraField:
    """A stage field one product line adds to the shared ones."""

    name: str
    kind: str  # "str", "number" or "choice"
    label: str  # its name for people: a Chinese source string, translated where it is shown
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
    # The product forms (tags of FORM_NAMES) a batch of this line may carry.
    forms: tuple[str, ...] = ()
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
            forms=("fresh_flower", "scented_tea", "sugared"),
            extra_fields={
                "harvest": (ExtraField("variety", "choice", N_("品种"), ("金桂", "银桂", "丹桂", "四季桂")),),
                "processing": (ExtraField("method", "choice", N_("工艺"), ("drying", "scenting", "candying")),),
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
            forms=("fresh", "processed"),
            extra_fields={
                "planting": (ExtraField("pond_area_mu", "number", N_("藕塘面积(亩)")),),
                "harvest": (ExtraField("variety", "str", N_("品种")),),
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
            forms=("fresh_leaf", "finished_tea"),
            extra_fields={
                "harvest": (ExtraField("leaf_grade", "str", N_("鲜叶等级")),),
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
            forms=("crude_oil", "edible_oil", "pressed", "solvent_extracted"),
            extra_fields={
                "processing": (
                    ExtraField("pressing_method", "choice", N_("压榨方式"), ("cold", "hot", "aqueous_enzymatic")),
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
            # GB/T 20977 (糕点通则) is recommended: it binds a producer that declares it as its
            # 执行标准, not every mahua batch (catalog audit 2026-12, §1). What remains is the
            # traceability standard for prepackaged food, which sets no limit.
            default_standards=("GB/T 37029-2018",),
            extra_fields={
                "processing": (ExtraField("frying_oil_temperature_c", "number", N_("油温(℃)")),),
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
                    ExtraField("variety", "str", N_("品种")),
                    ExtraField("brix", "number", N_("可溶性固形物(%)")),
                ),
            },
        ),
    )
}
