"""The concept map, round 12 (#18): a thing named as an instance of what a document names by
its class (a company, a kind of hospital, a crop, a trade learned), a cost or item of what a
document names as a benefit, a person doing a job a document names by its title, and
arrangements said plainly. Wordings are this module's own, written from the documents;
expected measures are those whose text writes the term, never the engine's answers."""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.documents.plan import Plan
from tests.test_concepts_areas import assert_finds_term
from tests.test_engine_concepts import narrowed


@pytest.mark.parametrize(
    ("question", "term"),
    [
        # (A utility or a central firm by its name is no line to 国有企业: asked of the notice,
        # 自来水公司停水 or 中石化的油价 found its items on disabled people's jobs.)
        # a trade learned
        ("学挖掘机谁来教", "职业技能培训"),
        ("想学做咖啡", "职业技能培训"),
        ("学美甲去哪学", "职业技能培训"),
        ("月嫂培训", "职业技能培训"),
        ("学烘焙", "职业技能培训"),
    ],
)
def test_the_notice_s_classes_named_by_an_instance(
    plan: Plan, engine: Engine, question: str, term: str
) -> None:
    assert_finds_term(plan, engine, question, term)


@pytest.mark.parametrize(
    ("written", "phrase", "term"),
    [
        # instances -> class
        ("规范平台企业用工。", "美团", "平台企业"),
        ("依法规范互联网平台经营。", "字节跳动", "互联网平台"),
        ("支持电子商务平台开设扶贫频道。", "天猫", "电子商务平台"),
        ("发展直播电商。", "抖音", "直播电商"),
        ("推动快递企业绿色转型。", "顺丰", "快递企业"),
        ("规范网约车平台经营。", "打车软件", "网约车平台"),
        ("推动公立医院高质量发展。", "华西医院", "公立医院"),
        ("加强县级医院能力建设。", "县人民医院", "县级医院"),
        ("提升乡镇卫生院服务能力。", "镇上的医院", "乡镇卫生院"),
        ("支持民办教育发展。", "私人办的学校", "民办教育"),
        ("稳定粮食生产。", "麦子", "粮食"),
        ("提高农业机械化水平，推广农机具。", "烘干机", "农机具"),
        ("整治低速电动车。", "老头乐", "低速电动车"),
        ("培育物业服务企业。", "物业公司", "物业服务企业"),
        ("规范房地产经纪机构。", "链家", "房地产经纪机构"),
        ("加强地方戏曲保护。", "川剧", "地方戏曲"),
        ("健全公共文化设施网络。", "图书馆", "公共文化设施"),
        ("推进化工企业搬迁。", "化工厂", "化工企业"),
        # costs and items -> the benefit's name
        ("落实职业培训补贴政策。", "培训的学费", "职业培训补贴"),
        ("对参加培训的给予生活费补贴。", "培训期间的饭钱", "生活费补贴"),
        ("给予一次性交通补贴。", "外出打工的路费", "一次性交通补贴"),
        ("给予场地租金补贴。", "店面房租", "场地租金补贴"),
        ("发放创业担保贷款。", "创业的本钱", "创业担保贷款"),
        ("落实就业见习补贴。", "见习期工资", "就业见习补贴"),
        ("落实农机购置补贴。", "买收割机的钱", "农机购置补贴"),
        ("给予高层次人才安家补贴。", "人才安家钱", "安家补贴"),
        ("提高高龄津贴标准。", "长寿金", "高龄津贴"),
        ("发放孤儿基本生活费。", "孤儿补贴", "孤儿基本生活费"),
        ("做好辅助器具补贴工作。", "装假肢的钱", "辅助器具补贴"),
        ("规范物业服务收费。", "物业费", "物业服务收费"),
        # who does it -> the title
        ("培训医疗护理员。", "陪护阿姨", "医疗护理员"),
        ("配齐儿童主任。", "村里管孩子的", "儿童主任"),
        ("壮大养老护理员队伍。", "养老院阿姨", "养老护理员"),
        ("加强劳动保障监察。", "查欠薪的", "劳动保障监察"),
        ("培育劳务经纪人。", "带老乡出去打工的", "劳务经纪人"),
        ("选派科技特派员。", "下乡的技术员", "科技特派员"),
        ("推行村居法律顾问制度。", "村里的律师", "村居法律顾问"),
        ("发展社会体育指导员队伍。", "广场舞领队", "社会体育指导员"),
        ("配备食品安全员。", "食安员", "食品安全员"),
        ("开发乡村公益性岗位。", "村里的保洁员", "乡村公益性岗位"),
        ("建强综治中心。", "综治员", "综治中心"),
        ("落实四议两公开。", "村里大事大家商量", "四议两公开"),
        # arrangements said plainly
        ("规范异地参保。", "公司注册在外地", "异地参保"),
        ("推动共享用工。", "借员工", "共享用工"),
        ("加强东西部劳务协作。", "帮外省招工", "劳务协作"),
        ("推进排污权交易。", "买卖排污指标", "排污权交易"),
        ("发展飞地经济。", "两地合建园区", "飞地经济"),
        ("推行订单农业。", "先签收购合同再种", "订单农业"),
        ("开展信用修复。", "去掉失信记录", "信用修复"),
        ("推行一业一证改革。", "一个行业一张证", "一业一证"),
        ("推进高效办成一件事。", "几件事一起办", "高效办成一件事"),
        ("发展离岸贸易。", "两头在外的贸易", "离岸贸易"),
        ("推进农超对接。", "农民直接卖给超市", "农超对接"),
        ("推进义务教育教师交流轮岗。", "老师轮流去别的学校", "教师交流轮岗"),
        ("阶段性缓缴社会保险费。", "社保晚点交", "缓缴社会保险费"),
        ("落实学生营养膳食补助。", "学生午饭钱", "营养膳食补助"),
        ("推广新能源汽车。", "比亚迪", "新能源汽车"),
        ("繁荣网络文学创作。", "网络小说", "网络文学"),
        ("维护新就业形态劳动者权益。", "网约车司机", "新就业形态劳动者"),
        ("支持融资租赁企业进出口飞机。", "租飞机", "融资租赁"),
        ("推动引进国际重大赛事。", "世界杯", "国际重大赛事"),
    ],
)
def test_instances_costs_roles_and_arrangements_reach_the_term(
    written: str, phrase: str, term: str
) -> None:
    found = narrowed(written)
    assert term in found.get(phrase, ()), (phrase, found.get(phrase))


@pytest.mark.parametrize(
    ("written", "phrase", "other"),
    [
        # instances of one class are not each other's names (kin stays within a line)
        ("提高供电公司服务水平。", "自来水公司", "供电公司"),
        ("支持川剧传承。", "京剧", "川剧"),
        ("建设市图书馆。", "博物馆", "图书馆"),
    ],
)
def test_an_instance_does_not_stand_for_another(written: str, phrase: str, other: str) -> None:
    assert other not in narrowed(written).get(phrase, ())


@pytest.mark.parametrize(
    "question",
    [
        # this round's words beside matters the notice does not treat
        "公交公司票价多少",
        "自来水公司停水",
        "供电公司电费",
        "中石化的油价",
        "公交公司的车太挤",
        "公交集团的司机工资",
        "燃气公司乱收费",
        "物业费太贵谁管",
        "停车费怎么收",
        "维修基金怎么取",
        "奶粉钱太贵",
        "工伤赔多少钱",
        "老年证怎么办",
        "孤儿补贴多少",
        "买农机的钱能补吗",
        "学挖掘机要多少钱",
        "京剧票多少钱",
    ],
)
def test_what_the_notice_does_not_answer_stays_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match, question
    assert answer.measures == ()
