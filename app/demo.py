"""Demo data: the pilot office, a regulator, a lab, and for each of the six product lines a
producer, its sites and a batch with a whole, plausible journey through that product's stages.

``flask --app wsgi demo load`` calls ``load_demo()``. It is idempotent: organizations are keyed
on their codes, users on their usernames, sites on (organization, name) and batches on fixed lot
codes, so a second run finds everything and changes nothing. A batch that exists is left as it
is, events and all (its chain is append-only).

Every organization, person, credit code, registration number and plate below is made up for the
demo; the places and their coordinates are real. Dates are fixed days of 2026 in China time,
and every event goes through the one append path (``service.append_event``), recorded a little
after it happened as a phone in the field would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app.auth import Actor
from app.batches import service
from app.batches.models import Batch
from app.catalog.models import ProductLine
from app.catalog.products import PRODUCTS
from app.compliance import certifications, inspections
from app.compliance.models import Certification, Inspection
from app.db import db
from app.errors import NotFound
from app.orgs import service as orgs
from app.orgs.credit_code import check_character
from app.orgs.models import Organization, Site, User

CST = dt.timezone(dt.timedelta(hours=8), "CST")
# Entered on the phone a quarter of an hour after it happened.
RECORDING_DELAY = dt.timedelta(minutes=15)

# The only demo users with a password; both are printed by ``demo load`` and in the README.
DEMO_PASSWORDS = {"inspector": "inspector-demo-2026", "loquat-coop": "coop-demo-2026"}


def cst(moment: str) -> dt.datetime:
    """'2026-05-12 07:30' in China time."""
    return dt.datetime.strptime(moment, "%Y-%m-%d %H:%M").replace(tzinfo=CST)


def iso(moment: str) -> str:
    return cst(moment).isoformat()


def credit_code(registration: str, division: str, body: str) -> str:
    """A well-formed 统一社会信用代码: registration type, division code, 9 characters, check character."""
    first17 = f"{registration}{division}{body}"
    return first17 + check_character(first17)


@dataclass(frozen=True)
class OrgSpec:
    code: str
    name: str
    name_en: str
    kind: str
    county: str | None = None
    credit_code: str | None = None
    masked_id: str | None = None
    cooperative: str | None = None


@dataclass(frozen=True)
class UserSpec:
    username: str
    org: str
    role: str
    display_name: str


@dataclass(frozen=True)
class SiteSpec:
    org: str
    name: str
    name_en: str
    kind: str
    county: str
    township: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True)
class EventSpec:
    stage: str
    when: str
    data: dict[str, Any]
    site: str | None = None  # a site name of the custodian or the producer


@dataclass(frozen=True)
class BatchSpec:
    lot_code: str
    product: str
    quantity: str
    unit: str
    by: str  # username of the custodian's user who records everything
    produced_at: str
    site: str | None
    events: tuple[EventSpec, ...]
    producer: str | None = None  # a member household, when a cooperative keeps the batch for it
    gtin: str | None = None


@dataclass
class Tally:
    created: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.present
        bucket[kind] = bucket.get(kind, 0) + 1


# --- who --------------------------------------------------------------------------------------

XIANNING, XIANAN, JIAYU, TONGCHENG, CHONGYANG, TONGSHAN, CHIBI = (
    "421200", "421202", "421221", "421222", "421223", "421224", "421281",
)  # fmt: skip

ORGS: tuple[OrgSpec, ...] = (
    OrgSpec("XN-PILOT-OFFICE", "咸宁市一县一品标准化试点工作办公室", "Xianning Standardization Pilot Office",
            "regulator", "咸宁市", credit_code("11", XIANNING, "MB1P2026A")),
    OrgSpec("XN-AMR", "咸宁市市场监督管理局", "Xianning Administration for Market Regulation",
            "regulator", "咸宁市", credit_code("11", XIANNING, "MB1R37X6D")),
    OrgSpec("XN-AGLAB", "咸宁市农产品质量安全检测中心",
            "Xianning Agricultural Product Quality and Safety Testing Centre",
            "lab", "咸宁市", credit_code("12", XIANNING, "MB1L4Q28K")),
    # osmanthus: 咸安区桂花镇
    OrgSpec("XA-JINGUI", "咸宁市咸安区金桂香食品有限公司", "Xian'an Jinguixiang Foods Co., Ltd.",
            "enterprise", "咸安区", credit_code("91", XIANAN, "MA4F3G8K1")),
    # lotus root: 嘉鱼县
    OrgSpec("JY-LOTUS-COOP", "嘉鱼县鱼岳镇莲藕种植专业合作社", "Yuyue Lotus Root Growers' Cooperative, Jiayu",
            "cooperative", "嘉鱼县", credit_code("93", JIAYU, "MA49LR6T2")),
    # brick tea: 赤壁市赵李桥镇羊楼洞
    OrgSpec("CB-DONGZHUANG", "赤壁市洞庄青砖茶业有限公司", "Chibi Dongzhuang Brick Tea Co., Ltd.",
            "enterprise", "赤壁市", credit_code("91", CHIBI, "MA4BT7Q30")),
    # camellia oil: 通城县黄袍山
    OrgSpec("TC-PAOSHAN-COOP", "通城县袍山油茶专业合作社", "Paoshan Camellia Growers' Cooperative, Tongcheng",
            "cooperative", "通城县", credit_code("93", TONGCHENG, "MA4C0L5N8")),
    # mahua: 崇阳县天城镇
    OrgSpec("CY-TIANCHENG", "崇阳县天城镇麻花食品厂", "Tiancheng Mahua Food Factory, Chongyang",
            "enterprise", "崇阳县", credit_code("91", CHONGYANG, "MA4MH2W61")),
    # loquat: 通山县大畈镇, a cooperative and three member households
    OrgSpec("TS-DAFAN-COOP", "通山县大畈镇枇杷专业合作社", "Dafan Loquat Growers' Cooperative, Tongshan",
            "cooperative", "通山县", credit_code("93", TONGSHAN, "MA4LQ8E5U")),
    OrgSpec("TS-HH-WANG", "大畈镇白泉村 王德明", "Wang Deming, Baiquan Village", "farm_household", "通山县",
            masked_id="421224********1537", cooperative="TS-DAFAN-COOP"),
    OrgSpec("TS-HH-CHEN", "大畈镇西泉村 陈秀英", "Chen Xiuying, Xiquan Village", "farm_household", "通山县",
            masked_id="421224********2046", cooperative="TS-DAFAN-COOP"),
    OrgSpec("TS-HH-LIU", "大畈镇隐水村 刘光辉", "Liu Guanghui, Yinshui Village", "farm_household", "通山县",
            masked_id="421224********031X", cooperative="TS-DAFAN-COOP"),
)  # fmt: skip

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "XN-PILOT-OFFICE", "admin", "试点办管理员"),
    UserSpec("inspector", "XN-AMR", "inspector", "市场监管执法人员"),
    UserSpec("lab", "XN-AGLAB", "lab", "检测中心检验员"),
    UserSpec("osmanthus-maker", "XA-JINGUI", "processor", "金桂香生产主管"),
    UserSpec("lotus-coop", "JY-LOTUS-COOP", "cooperative", "鱼岳莲藕合作社记录员"),
    UserSpec("tea-maker", "CB-DONGZHUANG", "processor", "洞庄茶厂生产主管"),
    UserSpec("oil-coop", "TC-PAOSHAN-COOP", "cooperative", "袍山油茶合作社记录员"),
    UserSpec("mahua-maker", "CY-TIANCHENG", "processor", "天城麻花厂生产主管"),
    UserSpec("loquat-coop", "TS-DAFAN-COOP", "cooperative", "大畈枇杷合作社记录员"),
)

SITES: tuple[SiteSpec, ...] = (
    SiteSpec("XA-JINGUI", "桂花镇金桂园", "Guihua Town osmanthus garden", "garden",
             "咸安区", "桂花镇", 29.7368, 114.2992),
    SiteSpec("XA-JINGUI", "金桂香糖桂花加工车间", "Jinguixiang candied osmanthus workshop", "factory",
             "咸安区", "桂花镇", 29.7411, 114.3046),
    SiteSpec("JY-LOTUS-COOP", "鱼岳镇三湖连江藕塘", "Yuyue lotus ponds", "pond",
             "嘉鱼县", "鱼岳镇", 29.9733, 113.9318),
    SiteSpec("JY-LOTUS-COOP", "合作社清洗分级冷库", "Cooperative washing, grading and cold store", "warehouse",
             "嘉鱼县", "鱼岳镇", 29.9791, 113.9254),
    SiteSpec("CB-DONGZHUANG", "羊楼洞松峰茶园", "Songfeng tea garden, Yangloudong", "tea_garden",
             "赤壁市", "赵李桥镇", 29.6019, 113.8807),
    SiteSpec("CB-DONGZHUANG", "赵李桥青砖茶厂", "Zhaoliqiao brick tea works", "factory",
             "赤壁市", "赵李桥镇", 29.6213, 113.8945),
    SiteSpec("TC-PAOSHAN-COOP", "黄袍山油茶基地", "Huangpaoshan camellia plantation", "plantation",
             "通城县", None, 29.2487, 113.8012),
    SiteSpec("TC-PAOSHAN-COOP", "合作社压榨灌装车间", "Cooperative pressing and filling workshop", "factory",
             "通城县", "隽水镇", 29.2452, 113.8171),
    SiteSpec("CY-TIANCHENG", "天城镇麻花生产车间", "Tiancheng mahua workshop", "factory",
             "崇阳县", "天城镇", 29.5487, 114.0431),
    SiteSpec("TS-DAFAN-COOP", "大畈镇枇杷示范园", "Dafan loquat demonstration orchard", "orchard",
             "通山县", "大畈镇", 29.6003, 114.5198),
    SiteSpec("TS-DAFAN-COOP", "合作社分级冷库", "Cooperative grading hall and cold store", "warehouse",
             "通山县", "大畈镇", 29.6048, 114.5262),
    SiteSpec("TS-HH-WANG", "白泉村王家枇杷园", "Wang family loquat orchard", "orchard",
             "通山县", "大畈镇", 29.5941, 114.5127),
    SiteSpec("TS-HH-CHEN", "西泉村陈家枇杷园", "Chen family loquat orchard", "orchard",
             "通山县", "大畈镇", 29.6072, 114.5083),
    SiteSpec("TS-HH-LIU", "隐水村刘家枇杷园", "Liu family loquat orchard", "orchard",
             "通山县", "大畈镇", 29.5886, 114.5315),
)  # fmt: skip


# --- what happened ----------------------------------------------------------------------------


def fertilizer(name: str, reg: str, dose: str, unit: str, when: str) -> dict[str, Any]:
    return {"kind": "fertilizer", "name": name, "registration_no": reg, "dose": dose, "dose_unit": unit,
            "applied_at": iso(when)}  # fmt: skip


def pesticide(name: str, reg: str, dose: str, unit: str, when: str, phi_days: int) -> dict[str, Any]:
    return {"kind": "pesticide", "name": name, "registration_no": reg, "dose": dose, "dose_unit": unit,
            "applied_at": iso(when), "phi_days": phi_days}  # fmt: skip


def step(name: str, when: str, **parameters: Any) -> dict[str, Any]:
    return {"name": name, "started_at": iso(when), "parameters": parameters}


OSMANTHUS = BatchSpec(
    lot_code="OS-2026-DEMO-01", product="osmanthus", quantity="1600", unit="kg", by="osmanthus-maker",
    produced_at="2026-10-15 17:00", site="桂花镇金桂园",
    events=(
        EventSpec("seedling", "2026-01-12 09:00", {"variety": "金桂", "source": "咸安区桂花镇本地嫁接苗（园区建档）",
                                                   "count": 1200}, "桂花镇金桂园"),
        EventSpec("planting", "2026-07-25 16:00", {
            "area_mu": "85",
            "inputs": [
                fertilizer("腐熟菜籽饼肥", "鄂农肥(2022)准字3318号", "100", "kg/亩", "2026-02-26 08:30"),
                pesticide("1.8%阿维菌素乳油（防治红蜘蛛）", "PD20070368", "40", "mL/亩", "2026-07-24 07:00", 21),
            ],
        }, "桂花镇金桂园"),
        EventSpec("harvest", "2026-09-28 06:30", {"quantity": "850", "unit": "kg", "grade": "鲜花一级",
                                                  "variety": "金桂", "note": "清晨摇花，竹席承接，当日入厂"},
                  "桂花镇金桂园"),
        EventSpec("processing", "2026-10-15 17:00", {
            "method": "candying",
            "steps": [
                step("摊晾", "2026-09-28 09:00", hours=3, layer_cm=2),
                step("糖渍", "2026-09-28 13:00", sugar_to_flower="1:1", days=15, plum_salt_pct="0.5"),
            ],
        }, "金桂香糖桂花加工车间"),
        EventSpec("packing", "2026-10-16 10:00", {"package": "500 g 玻璃瓶", "count": 3200}, "金桂香糖桂花加工车间"),
        EventSpec("storage", "2026-10-16 16:00", {"temperature_c": "18", "humidity_pct": "55",
                                                  "warehouse": "金桂香成品库"}, "金桂香糖桂花加工车间"),
        EventSpec("transport", "2026-10-28 08:00", {"vehicle": "鄂L·2G736", "origin": "咸安区",
                                                    "destination": "武汉市江汉区"}),
        EventSpec("sale", "2026-10-30 10:00", {"channel": "特产门店与电商旗舰店"}),
    ),
)  # fmt: skip

LOTUS_ROOT = BatchSpec(
    lot_code="LR-2026-DEMO-01", product="lotus_root", quantity="12000", unit="kg", by="lotus-coop",
    produced_at="2026-08-20 05:30", site="鱼岳镇三湖连江藕塘",
    events=(
        EventSpec("seedling", "2026-03-26 08:00", {"variety": "鄂莲5号", "source": "武汉市蔬菜科学研究所良种藕种",
                                                   "count": 12000}, "鱼岳镇三湖连江藕塘"),
        EventSpec("planting", "2026-04-08 09:00", {
            "pond_area_mu": "60",
            "inputs": [
                fertilizer("硫酸钾型复合肥(15-15-15)", "鄂农肥(2021)准字2756号", "40", "kg/亩", "2026-04-05 08:00"),
                pesticide("10%吡虫啉可湿性粉剂（防治莲缢管蚜）", "PD20083512", "20", "g/亩", "2026-06-12 07:30", 14),
            ],
        }, "鱼岳镇三湖连江藕塘"),
        EventSpec("harvest", "2026-08-20 05:30", {"quantity": "12000", "unit": "kg", "grade": "一级",
                                                  "variety": "鄂莲5号"}, "鱼岳镇三湖连江藕塘"),
        EventSpec("processing", "2026-08-20 14:00", {
            "steps": [
                step("清洗", "2026-08-20 08:00", water="井水", minutes=20),
                step("分级", "2026-08-20 10:00", grade_rule="单支≥0.75 kg为一级"),
                step("预冷", "2026-08-20 12:00", target_temperature_c=4, hours=2),
            ],
        }, "合作社清洗分级冷库"),
        EventSpec("packing", "2026-08-20 16:00", {"package": "10 kg 保鲜袋装纸箱", "count": 1150},
                  "合作社清洗分级冷库"),
        EventSpec("storage", "2026-08-20 17:00", {"temperature_c": "3", "humidity_pct": "92",
                                                  "warehouse": "合作社1号冷库"}, "合作社清洗分级冷库"),
        EventSpec("transport", "2026-08-21 04:00", {"vehicle": "鄂L·7C215 冷藏车", "origin": "嘉鱼县",
                                                    "destination": "武汉市洪山区", "temperature_c": "4"}),
        EventSpec("sale", "2026-08-21 07:30", {"channel": "农产品批发市场", "buyer": "白沙洲农副产品市场批发商"}),
    ),
)  # fmt: skip

BRICK_TEA = BatchSpec(
    lot_code="BT-2026-DEMO-01", product="brick_tea", quantity="2200", unit="brick", by="tea-maker",
    produced_at="2026-08-22 18:00", site="羊楼洞松峰茶园", gtin="6975432100014",
    events=(
        EventSpec("seedling", "2026-01-20 10:00", {"variety": "鄂茶1号", "source": "赤壁市茶树良种繁育场（茶园建档）",
                                                   "count": 96000}, "羊楼洞松峰茶园"),
        EventSpec("planting", "2026-04-21 17:00", {
            "area_mu": "320",
            "inputs": [
                fertilizer("腐熟菜籽饼肥", "鄂农肥(2022)准字3318号", "150", "kg/亩", "2026-02-25 08:00"),
                pesticide("0.6%苦参碱水剂（防治茶小绿叶蝉）", "PD20101580", "75", "mL/亩", "2026-04-20 07:00", 10),
            ],
        }, "羊楼洞松峰茶园"),
        EventSpec("harvest", "2026-06-10 17:30", {"quantity": "18000", "unit": "kg", "grade": "老青茶鲜叶",
                                                  "leaf_grade": "里茶（当年红梗新梢）"}, "羊楼洞松峰茶园"),
        EventSpec("processing", "2026-08-22 18:00", {
            "steps": [
                step("杀青", "2026-06-10 19:00", pan_temperature_c=280, minutes=4),
                step("揉捻", "2026-06-10 20:00", minutes=20),
                step("渥堆", "2026-06-12 08:00", days=25, pile_temperature_c="55-65", turns=2),
                step("压制", "2026-07-20 08:00", steam_seconds=30, pressure_mpa=15, brick_weight_kg=2),
                step("干燥", "2026-07-21 08:00", days=30, room_temperature_c="40-50", final_moisture_pct=12),
            ],
        }, "赵李桥青砖茶厂"),
        EventSpec("packing", "2026-08-25 09:00", {"package": "2 kg 青砖，棉纸内包、牛皮纸外包", "count": 2200},
                  "赵李桥青砖茶厂"),
        EventSpec("storage", "2026-08-25 15:00", {"temperature_c": "24", "humidity_pct": "60",
                                                  "warehouse": "洞庄陈化仓"}, "赵李桥青砖茶厂"),
        EventSpec("transport", "2026-10-12 07:00", {"vehicle": "鄂L·5B268", "origin": "赤壁市",
                                                    "destination": "武汉市汉阳区"}),
        EventSpec("sale", "2026-10-15 10:00", {"channel": "茶叶批发经销", "buyer": "汉阳茶叶市场经销商"}),
    ),
)  # fmt: skip

CAMELLIA_OIL = BatchSpec(
    lot_code="CO-2026-DEMO-01", product="camellia_oil", quantity="1900", unit="L", by="oil-coop",
    produced_at="2026-11-10 16:00", site="黄袍山油茶基地",
    events=(
        EventSpec("seedling", "2026-02-10 09:00", {"variety": "长林40号", "source": "通城县油茶良种采穗圃（基地建档）",
                                                   "count": 8800}, "黄袍山油茶基地"),
        EventSpec("planting", "2026-07-16 17:00", {
            "area_mu": "160",
            "inputs": [
                fertilizer("有机无机复混肥", "鄂农肥(2020)准字1894号", "50", "kg/亩", "2026-03-08 08:00"),
                pesticide("10%苯醚甲环唑水分散粒剂（防治油茶炭疽病）", "PD20050194", "50", "g/亩",
                          "2026-07-15 07:00", 28),
            ],
        }, "黄袍山油茶基地"),
        EventSpec("harvest", "2026-10-24 16:00", {"quantity": "30000", "unit": "kg", "grade": "霜降籽鲜果"},
                  "黄袍山油茶基地"),
        EventSpec("processing", "2026-11-10 16:00", {
            "pressing_method": "cold",
            "steps": [
                step("晒干", "2026-10-25 08:00", days=8, final_moisture_pct=10),
                step("脱壳", "2026-11-03 08:00", seed_yield_kg=9600),
                step("压榨", "2026-11-05 08:00", temperature_c_max=60, passes=2),
                step("过滤", "2026-11-08 08:00", method="板框过滤", mesh=200),
                step("灌装", "2026-11-10 08:00", bottle_ml=500),
            ],
        }, "合作社压榨灌装车间"),
        EventSpec("packing", "2026-11-10 17:00", {"package": "500 mL 玻璃瓶，两瓶礼盒", "count": 3800},
                  "合作社压榨灌装车间"),
        EventSpec("storage", "2026-11-11 09:00", {"temperature_c": "16", "humidity_pct": "55",
                                                  "warehouse": "合作社避光成品库"}, "合作社压榨灌装车间"),
        EventSpec("transport", "2026-11-18 07:30", {"vehicle": "鄂L·9D802", "origin": "通城县",
                                                    "destination": "武汉市武昌区"}),
        EventSpec("sale", "2026-11-20 10:00", {"channel": "电商旗舰店与商超"}),
    ),
)  # fmt: skip

MAHUA = BatchSpec(
    lot_code="MH-2026-DEMO-01", product="mahua", quantity="600", unit="kg", by="mahua-maker",
    produced_at="2026-11-02 15:00", site="天城镇麻花生产车间",
    events=(
        EventSpec("processing", "2026-11-02 15:00", {
            "frying_oil_temperature_c": "170",
            "steps": [
                step("和面", "2026-11-02 06:00", flour_kg=400, water_kg=180, sugar_kg=40, yeast_kg=4),
                step("醒面", "2026-11-02 06:40", minutes=60, room_temperature_c=26),
                step("搓条", "2026-11-02 07:45", strand_g=25),
                step("成型", "2026-11-02 08:30", strands=3),
                step("油炸", "2026-11-02 09:00", oil="一级菜籽油", oil_temperature_c=170, minutes=6),
                step("冷却", "2026-11-02 13:00", minutes=90),
            ],
        }, "天城镇麻花生产车间"),
        EventSpec("packing", "2026-11-03 09:00", {"package": "400 g 充氮袋装", "count": 1500}, "天城镇麻花生产车间"),
        EventSpec("storage", "2026-11-03 15:00", {"temperature_c": "20", "humidity_pct": "45",
                                                  "warehouse": "天城镇成品库"}, "天城镇麻花生产车间"),
        EventSpec("transport", "2026-11-05 07:00", {"vehicle": "鄂L·3F119", "origin": "崇阳县",
                                                    "destination": "咸宁市咸安区"}),
        EventSpec("sale", "2026-11-06 09:30", {"channel": "咸宁特产专卖店"}),
    ),
)  # fmt: skip

LOQUAT = BatchSpec(
    lot_code="LQ-2026-DEMO-01", product="loquat", quantity="960", unit="kg", by="loquat-coop",
    produced_at="2026-05-12 06:00", site="大畈镇枇杷示范园",
    events=(
        EventSpec("seedling", "2026-01-15 09:00", {"variety": "大五星", "source": "通山县大畈镇枇杷嫁接苗（果园建档）",
                                                   "count": 640}, "大畈镇枇杷示范园"),
        EventSpec("planting", "2026-03-22 17:00", {
            "area_mu": "40",
            "inputs": [
                fertilizer("商品有机肥", "鄂农肥(2023)准字4102号", "300", "kg/亩", "2026-02-20 08:00"),
                pesticide("10%苯醚甲环唑水分散粒剂（防治叶斑病）", "PD20050194", "30", "g/亩", "2026-03-21 07:00", 14),
            ],
        }, "大畈镇枇杷示范园"),
        EventSpec("harvest", "2026-05-12 06:00", {"quantity": "960", "unit": "kg", "grade": "一级果",
                                                  "variety": "大五星", "brix": "12.5"}, "大畈镇枇杷示范园"),
        EventSpec("packing", "2026-05-12 14:00", {"package": "2.5 kg 礼盒（单果≥40 g）", "count": 384},
                  "合作社分级冷库"),
        EventSpec("storage", "2026-05-12 16:00", {"temperature_c": "5", "humidity_pct": "90",
                                                  "warehouse": "合作社冷库"}, "合作社分级冷库"),
        EventSpec("transport", "2026-05-13 05:00", {"vehicle": "鄂L·6E430 冷藏车", "origin": "通山县",
                                                    "destination": "武汉市洪山区", "temperature_c": "6"}),
        EventSpec("sale", "2026-05-13 09:00", {"channel": "商超生鲜专柜"}),
    ),
)  # fmt: skip


def household_lot(n: int, household: str, orchard: str, kg: str, day: str, variety: str, brix: str) -> BatchSpec:
    """A member household's small lot, kept and recorded by the cooperative, ready to be merged."""
    return BatchSpec(
        lot_code=f"LQ-2026-DEMO-H{n}", product="loquat", quantity=kg, unit="kg", by="loquat-coop",
        producer=household, produced_at=f"{day} 07:00", site=orchard,
        events=(
            EventSpec("planting", "2026-03-20 17:00", {"area_mu": "3", "inputs": [
                fertilizer("商品有机肥", "鄂农肥(2023)准字4102号", "250", "kg/亩", "2026-02-18 08:00"),
            ]}, orchard),
            EventSpec("harvest", f"{day} 07:00", {"quantity": kg, "unit": "kg", "grade": "一级果",
                                                  "variety": variety, "brix": brix}, orchard),
        ),
    )  # fmt: skip


HOUSEHOLD_LOTS = (
    household_lot(1, "TS-HH-WANG", "白泉村王家枇杷园", "180", "2026-05-10", "大五星", "12.2"),
    household_lot(2, "TS-HH-CHEN", "西泉村陈家枇杷园", "145", "2026-05-10", "白玉", "13.1"),
    household_lot(3, "TS-HH-LIU", "隐水村刘家枇杷园", "210", "2026-05-11", "大五星", "11.8"),
)

BATCHES: tuple[BatchSpec, ...] = (OSMANTHUS, LOTUS_ROOT, BRICK_TEA, CAMELLIA_OIL, MAHUA, LOQUAT, *HOUSEHOLD_LOTS)


# --- tests and certificates ---------------------------------------------------------------------
# Report and certificate numbers are made up, like every organization here.


@dataclass(frozen=True)
class InspectionSpec:
    lot_code: str
    report_no: str
    sampled_at: str
    tested_at: str
    results: tuple[dict[str, Any], ...]


def measured(parameter: str, value: str, unit: str, method: str | None = None) -> dict[str, Any]:
    return {"parameter": parameter, "value": Decimal(value), "unit": unit, **({"method": method} if method else {})}


def not_detected(parameter: str, lod: str, unit: str = "mg/kg") -> dict[str, Any]:
    return {"parameter": parameter, "not_detected": True, "lod": Decimal(lod), "unit": unit}


INSPECTIONS: tuple[InspectionSpec, ...] = (
    # A market sample after sale (市场抽检), tested for the full panel the catalog binds to brick
    # tea on its sampling date, so its verdict is whole.
    InspectionSpec(
        lot_code="BT-2026-DEMO-01", report_no="XNNJ-2026-1016", sampled_at="2026-10-16 09:30",
        tested_at="2026-10-20 16:00",
        results=(
            measured("fluoride", "186", "mg/kg", "GB/T 21728-2008"),
            measured("lead", "0.62", "mg/kg", "GB 5009.12"),
            measured("stem_content", "14.5", "%"),
            measured("moisture", "10.8", "%", "GB 5009.3"),
            measured("total_ash", "7.2", "%", "GB 5009.4"),
            measured("non_tea_inclusions", "0.1", "%"),
            measured("water_extract", "24.6", "%", "GB/T 8305"),
            measured("pesticide.imidacloprid", "0.03", "mg/kg"),
            measured("pesticide.bifenthrin", "0.12", "mg/kg"),
            not_detected("pesticide.flonicamid", "0.02"),
            not_detected("pesticide.fenpyroximate", "0.01"),
            not_detected("pesticide.acetamiprid", "0.01"),
            not_detected("pesticide.carbendazim", "0.02"),
            not_detected("pesticide.cypermethrin", "0.05"),
            not_detected("pesticide.fenvalerate", "0.01"),
        ),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class CertificationSpec:
    kind: str
    number: str
    issuer: str
    holder: str
    product: str
    valid_from: str
    valid_to: str | None
    scope: str
    site: str | None = None  # a licence for one orchard covers only lots from that orchard


CERTIFICATIONS: tuple[CertificationSpec, ...] = (
    CertificationSpec("green_food", "LB-18-2605120342A", "中国绿色食品发展中心", "TS-DAFAN-COOP", "loquat",
                      "2024-06-01", "2027-05-31", "大畈镇枇杷示范园 枇杷鲜果（演示数据）", site="大畈镇枇杷示范园"),
    CertificationSpec("compliance_certificate", "TS-HGZ-2026-0512", "通山县大畈镇枇杷专业合作社（自行开具）",
                      "TS-DAFAN-COOP", "loquat", "2026-05-12", "2026-06-30", "承诺达标合格证（演示数据）"),
)  # fmt: skip


# --- loading ----------------------------------------------------------------------------------


def _ensure_org(spec: OrgSpec, tally: Tally) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.code == spec.code))
    tally.count("organizations", org is None)
    if org is not None:
        return org
    return orgs.create_organization(
        code=spec.code, name=spec.name, name_en=spec.name_en, kind=spec.kind, county=spec.county,
        credit_code=spec.credit_code, masked_id=spec.masked_id, cooperative_code=spec.cooperative,
    )  # fmt: skip


def _ensure_user(spec: UserSpec, tally: Tally) -> User:
    user = db.session.scalar(select(User).where(User.username == spec.username))
    tally.count("users", user is None)
    if user is not None:
        return user
    return orgs.create_user(
        username=spec.username, org_code=spec.org, role=spec.role, display_name=spec.display_name,
        password=DEMO_PASSWORDS.get(spec.username),
    )  # fmt: skip


def _ensure_site(spec: SiteSpec, org: Organization, tally: Tally) -> Site:
    site = db.session.scalar(select(Site).where(Site.organization_id == org.id, Site.name == spec.name))
    tally.count("sites", site is None)
    if site is not None:
        return site
    return orgs.create_site(
        org, name=spec.name, name_en=spec.name_en, kind=spec.kind, county=spec.county, township=spec.township,
        latitude=spec.latitude, longitude=spec.longitude,
    )  # fmt: skip


def _ensure_batch(spec: BatchSpec, actors: dict[str, Actor], sites: dict[str, Site], tally: Tally) -> None:
    if db.session.scalar(select(Batch.id).where(Batch.lot_code == spec.lot_code)) is not None:
        tally.count("batches", False)
        return
    who = actors[spec.by]
    # The lot is opened with its first record (a grown product's, months before harvest)...
    opened = cst(spec.events[0].when) - RECORDING_DELAY
    batch = service.create_batch(
        who, product=spec.product, quantity=Decimal(spec.quantity), unit=spec.unit, lot_code=spec.lot_code,
        site=sites[spec.site].id if spec.site else None, gtin=spec.gtin, producer=spec.producer, now=opened,
    )  # fmt: skip
    # ...and its production date (harvest or manufacture, as the label prints it) is filled in once
    # known. It is not part of any event's hash, and the API has no update for it yet.
    batch.produced_at = cst(spec.produced_at)
    tally.count("batches", True)
    for event in spec.events:
        occurred = cst(event.when)
        service.append_event(
            batch.id, who, stage=event.stage, occurred_at=occurred, data=event.data,
            site=sites[event.site].id if event.site else None, now=occurred + RECORDING_DELAY,
        )  # fmt: skip
        tally.count("events", True)


def _ensure_inspection(spec: InspectionSpec, lab: Actor, tally: Tally) -> None:
    batch = db.session.scalar(select(Batch).where(Batch.lot_code == spec.lot_code))
    stored = db.session.scalar(
        select(Inspection.id).where(Inspection.batch_id == batch.id, Inspection.report_no == spec.report_no)
    )
    tally.count("inspections", stored is None)
    if stored is not None:
        return
    tested = cst(spec.tested_at)
    # The report enters the chain after the batch's last record, as a lab filing it would.
    last = max(e.recorded_at for e in service.events_of(batch))
    inspections.record_inspection(
        lab, batch.id, report_no=spec.report_no, lab=lab.org.name, sampled_at=cst(spec.sampled_at),
        tested_at=tested, results=[dict(r) for r in spec.results], now=max(last, tested) + RECORDING_DELAY,
    )  # fmt: skip


def _ensure_certification(spec: CertificationSpec, registrar: Actor, tally: Tally) -> None:
    stored = db.session.scalar(select(Certification.id).where(Certification.number == spec.number))
    tally.count("certifications", stored is None)
    if stored is not None:
        return
    site = None
    if spec.site is not None:
        site = db.session.scalar(
            select(Site.id).join(Organization).where(Organization.code == spec.holder, Site.name == spec.site)
        )
    certifications.create_certification(
        registrar, kind=spec.kind, number=spec.number, issuer=spec.issuer, holder=spec.holder, product=spec.product,
        site=site,
        valid_from=dt.date.fromisoformat(spec.valid_from),
        valid_to=dt.date.fromisoformat(spec.valid_to) if spec.valid_to else None, scope=spec.scope,
    )  # fmt: skip


def load_demo() -> str:
    """Create whatever of the demo is missing; return a one-line summary. The caller commits."""
    lines = db.session.scalar(select(func.count()).select_from(ProductLine).where(ProductLine.key.in_(PRODUCTS)))
    if lines != len(PRODUCTS):
        raise NotFound("The product lines are not loaded; run `flask --app wsgi catalog load` first.")
    tally = Tally()
    org_rows = {spec.code: _ensure_org(spec, tally) for spec in ORGS}
    users = {spec.username: _ensure_user(spec, tally) for spec in USERS}
    actors = {name: Actor(user=user, org=user.organization) for name, user in users.items()}
    sites = {spec.name: _ensure_site(spec, org_rows[spec.org], tally) for spec in SITES}
    for spec in BATCHES:
        _ensure_batch(spec, actors, sites, tally)
    for inspection in INSPECTIONS:
        _ensure_inspection(inspection, actors["lab"], tally)
    for certification in CERTIFICATIONS:
        _ensure_certification(certification, actors["inspector"], tally)
    db.session.flush()

    def describe(bucket: dict[str, int]) -> str:
        kinds = ("organizations", "users", "sites", "batches", "events", "inspections", "certifications")
        return ", ".join(f"{bucket[k]} {k}" for k in kinds if bucket.get(k)) or "nothing"

    logins = ", ".join(f"{name} / {password}" for name, password in DEMO_PASSWORDS.items())
    created, present = describe(tally.created), describe(tally.present)
    return f"demo: created {created}; already present {present}; demo-only logins: {logins}"
