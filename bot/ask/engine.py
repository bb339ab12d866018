"""The question engine: what a liaison asks, mapped onto units, tasks and measures.

Pure and synchronous: every index is built once in `Engine.__init__`; answering a question
does no I/O, reads at most MAX_QUESTION characters and takes time linear in them (no pattern
backtracks: see `task_phrases`). Kinds of question, tried in this order:
  measure     an id such as 7.2 or 举措6.3
  task        a task number (第8项任务, 任务五) or a task title (组织保障)
  unit        a unit by any name, short form or one-character typo; with a topic, unit_topic
  topic       anything else, ranked by BM25 over character bigrams with synonyms and the terms
              of everyday descriptions (bot/ask/concepts.txt), or else by the share of the
              question's characters a measure holds (everyday words)
  none        nothing in the document answers it
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from bot.ask.concept import concepts_in, other_subjects
from bot.ask.lexicon import Lexicon
from bot.ask.pattern import lazy
from bot.ask.text import bigrams, initials, is_cjk, located_runs, normalize, plain, runs, sound
from bot.ask.usage import common_words
from bot.documents.pattern import remembered
from bot.documents.plan import Measure, Plan
from bot.documents.shortname import spoken_aliases

Kind = Literal["measure", "task", "unit", "unit_topic", "topic", "none"]

MAX_TOPIC = 8
# The engine reads this many characters of a question at most (the longest measure is 280):
# what anyone may paste is bounded, and the reply says when the rest was left unread.
MAX_QUESTION = 300
# A measure must score this share of the best one to be listed with it.
RELATIVE_CUTOFF = 0.4
# Share of the question's topic weight the best measure must cover to count as an answer.
MIN_COVERAGE = 0.5
MIN_SCORE = 1.0
# The least score the topic's own words must earn for some measure (see _rank).
MIN_TOPICAL = 0.5
BM25_K1, BM25_B = 1.2, 0.75
# Words in nearly every measure (残疾人, 就业) weigh next to nothing; skip them when scoring.
MIN_IDF = 0.05
# Bigrams that touch scaffolding words count this much: they help, but the topic leads.
BONUS_WEIGHT = 0.5
# An unknown bigram beside a word at least this rare is a seam between words (see _junction).
JUNCTION_IDF = 1.0
# The recall ranking (see _recall), tried when the words themselves do not match: the share
# of the question's weight (characters the document has, weighted by how rare they are in it)
# that the best measure must hold to be answered, or to be offered as the nearest.
RECALL_CONFIDENT = 0.5
RECALL_NEAREST = 0.35
# A measure holding this much of a short question's weight answers it by characters.
RECALL_WHOLE = 0.95
# Shared words (bigrams) count this much beside the characters.
RECALL_BIGRAM = 0.3
# What a character the document never writes weighs against it (a rare one weighs about 3).
RECALL_UNKNOWN = 0.3
MAX_NEAREST = 3
# Measures scored by their characters at most (those sharing the most words with a question).
RECALL_CANDIDATES = 64
# The relative margin kept in _top's bounds for floating-point sums taken in another order.
_SLACK = 1e-9
# Words held by more measures than this get a bound of their own in _top (Engine._peak).
PEAKED = 32
# The least distinct characters (function words aside) of a question read with confidence.
RECALL_DESCRIBED = 6
# What a document's term counts for when the question only describes it in everyday words
# (坐轮椅的 for 肢体残疾, from bot/ask/concepts.txt): less than a word typed.
CONCEPT_WEIGHT = 0.7
# A description's two parts may stand this many characters apart (外地来的党员 says 外地党员,
# 上班时出事故 says 上班出事故): words a person puts between the parts of a compound.
CONCEPT_GAP = 2
# The characters a quantity starts with.
_QUANTITY_STARTS = frozenset("多好一二三四五六七八九十两几半0123456789个份点些仨俩")
# What joins one word to another (空气和河水).
_JOINERS = frozenset("和与及、跟")
# A quantity said inside a verb and its object (开三个月的药 says 开药, 贷多少款 says 贷款,
# 看个病 says 看病): a two-character phrase may stand apart by one.
_QUANTITY = lazy(
    r"(?:(?:多少|好多|一些|一点|[一二三四五六七八九十两几半多仨俩\d]+)"
    r"(?:个月|[个份点些次天周月年笔张件回趟亩头只条台家间辆棵斤块栋套])?|[个份点些])的?"
)
# Characters that carry no topic of their own (function words and question words).
_FUNCTION_CHARS = frozenset(
    "的了着吗呢吧啊么什怎谁哪是在有和与及或都也还要能会可把被给让对从到这那个些我你他她它们啥咋嘛呀"
)
# Asking for details a responsibility document never gives: a phone number, an address,
# who heads a body. (Not a call someone made: "残联打电话来核对信息".)
_DETAIL = lazy(
    r"(?<![打来接])电话(?!来)|地址|在哪里?办|办公地点|联系方式|邮箱|网址|官网|(?:局|厅|部|处)长是谁|主任是谁|领导是谁"
    r"|在哪(?:个|座)(?:城市|省份?|地方|县)(?:举?办|举行|召开|开)|在哪(?:里|儿)?(?:举办|举行|召开)"
    # Where an event is held ("招聘会在哪开"), not where a shop opens (在哪开店).
    r"|在哪(?:里|儿)?(?:开|办|考)[呢啊呀吗？?。]*$"
    # (Not what money is spent on: 用在哪, 花在哪.)
    r"|(?<![用花])在哪(?:里|儿)?[呢啊呀]?[？?。]*$|(?:哪个|什么)(?:网站|app|小程序|公众号)"
)
# A body the document does not name, asked about as a unit ("工业和信息化部负责什么").
_BODY = lazy(
    r"(?:部|厅|局|委员会|委|署|办公室|办)(?:负责|牵头|配合|参与|要做|有哪些|有什么|管什么)"
)
# Asking for an amount, a rate or a standard (see _DETAILS).
_AMOUNT = (
    r"多少钱|多少元|多少万|几[元块]|金额|什么比例|比例是|起征点|标准是"
    # A cap or a floor (上限是多少, 最多补多少, 最低要多少), not a count (最少招多少残疾人).
    r"|(?:上限|封顶|最高|最多|下限|最低|最少)[^，。？?]{0,3}(?:多少|几[万千百])"
    r"(?:钱|元|块|万|资金|经费|费用?)?[呢啊吗？?。]*$"
    # 好多钱 asked at the end is 多少钱 in south-western speech (花好多钱，… is "a lot");
    # "一天多少", "一个人补多少" a sum per day or head.
    r"|好多(?:钱|块钱?|元)[呢啊哦？?。]*$|(?:钱|金|费|价|租|资)(?:是|要|有)?好多[呢啊哦？?。]*$"
    r"|(?:[一每]个?(?:天|月|年)|每人|一个人)(?:能|可以)?[给发补拿领交贴奖]?(?:多少|好多)[钱元块]?[呢啊哦？?。]*$"
    # A price by the unit ("收购价一斤多少", "一亩地多少"), asked at the end.
    r"|(?:价|一|每)(?:斤|公斤|吨|亩|件)(?:是|要|能|卖|收)?多少[钱元块]?[呢啊哦？?。]*$"
    r"|[给发补贴交领借拿贷奖减免钱金费价额资]多少|(?:钱|金|费|价|额)(?:是|有|要|能)多少"
    r"|(?:报销?|涨|提高|上调)了?多少|涨幅|[费税]怎么(?:收|算|定)|百分之多少|几成|多大比例"
    # How a relief or a fee is worked out ("减免怎么算"): a sum the text must state.
    r"|(?:减免|抵扣|退税|[税费钱款])[^，。？?]{0,3}(?:怎么|怎样|如何|咋)(?:计?算|核算)"
    # A sum set, fined, split or adjusted (罚款多少, 能定多少, 调到多少, 分了多少), a money
    # standard asked for itself (补偿标准), how a benefit is split (怎么分配): numbers again.
    # A quota (每年能买多少额度, 限额是多少): a sum again.
    r"|多少(?:额度|限额|配额)|(?:限额|配额)(?:是|有)?多少|限购(?:多少|几)"
    r"|(?:每年|一年|每人|每次|单次|一次)(?:最多)?(?:能|可以)?(?:买|购买|购|带|进口|消费)多少"
    r"|[款分罚赔扣赚挣]了?多少|(?<!招)收了?多少|(?<!规)定多少|调(?:整)?到了?多少|(?:怎么|怎样|如何|咋)分(?:配|成)"
    r"|(?:工资|收入|待遇|奖金|额度|数额|费用)[^，。？?]{0,4}多少(?![人家个项条所批次])"
    # (Not one asked to be raised or set: "谁负责提高补贴标准" is a topic.)
    r"|^(?!.*(?:提高|调整|制定|完善|统一|落实|明确|规范|谁|哪个|部门))[^，。？?]{0,12}"
    r"(?:补偿|赔偿|补助|补贴|工资|收费|缴费|抚恤金?|救助|津贴)标准(?:是|为)?(?:多少|多高)?[吗呢啊？?。]*$"
)
# Benefits (补贴, 奖励, 优惠).
_BENEFIT = lazy(r"补贴|补助|奖励|奖补|优惠|资助|津贴")
# A benefit asked for (有补贴吗, 有没有奖励, 有哪些优惠政策), not one described (资助…的项目).
_BENEFIT_ASKED = lazy(
    rf"(?:有没有|有无|是否有|能不能|可不可以|能|可以|给不给)[^，。？?]{{0,4}}(?:{_BENEFIT.pattern})"
    rf"|(?:{_BENEFIT.pattern})(?:政策)?(?:吗|么|没有?|不)[？?。]*$"
    rf"|有(?:什么|哪些|啥)(?:{_BENEFIT.pattern})"
)
# An accident: who answers for one is asked of a measure on accidents, not of any sharing words.
_ACCIDENT = lazy(r"事故|出事")
# Details a question may ask for, each with what states it: a measure answers such a question
# only if its text states the detail (a responsibility document assigns work; it seldom gives
# an amount, a date, a rate or a procedure). One row a detail: (what asks for it, what states
# it). Where the question's words name what the detail is of (group "of": 利率 in 利率是多少),
# the text must name it too.
_DATE = r"\d{4}\s*年|\d{1,2}\s*月|年底|年内|月底"
_DURATION = r"[\d一二三四五六七八九十两]+\s*(?:个)?(?:工作日|日|天|周|个月|年内)"
_SPAN = rf"{_DURATION}|每[一二两三四五\d]?(?:年|季度|月)|定期"
_DETAILS = tuple(
    (lazy(asked), lazy(stated))
    for asked, stated in (
        # An amount, a rate or a standard: a number (元, %, 倍).
        (
            _AMOUNT,
            r"\d[\d.]*\s*(?:万|亿)?元|\d[\d.]*\s*%|百分之|[一二三四五六七八九十两百千万]+元|\d+倍",
        ),
        # How money or a profit is shared between parties (跟合作社咋分钱): a sum, or the way
        # it is shared (利益联结, 收益分配).
        (
            r"(?:怎么|怎样|如何|咋)分(?:红|钱)",
            r"\d[\d.]*\s*(?:万|亿)?元|\d[\d.]*\s*%|百分之|利益联结|利益分配|收益分配|分配机制|分享收益",
        ),
        # Money (多少钱, 几块, 给几万, 每个月给多少): a sum (a rate, 80%, states none).
        (
            r"多少钱|好多(?:钱|块)[呢啊哦？?。]*$|多少元|几[元块]钱?|多少块|费(?:用)?怎么(?:收|定)"
            r"|[给发补贷奖拿领赔]几[万千百]|几[万千百](?:块|元)"
            r"|(?:[一每]个?(?:天|月|年)|每人|一个人)(?:能|可以)?[给发补拿领交贴奖](?:多少|好多)"
            # A sum to put in (注册要多少资金, 投多少本钱, 注册资本多少).
            r"|多少(?:资金|经费|本钱|注册资本|注册资金)|注册(?:资本|资金)[^，。？?]{0,3}(?:多少|几)",
            r"\d[\d.]*\s*(?:万|亿)?元|[一二三四五六七八九十两百千万]+元",
        ),
        # How many people are taken in (招多少人, 招收几名): a number of people or places.
        (
            r"招(?:收|聘|生)?(?:多少|几|好多)(?:个|名)?(?:人|学生|名额)",
            r"\d[\d.]*\s*(?:万|千)?(?:人|名)|[一二三四五六七八九十百千万两]+(?:人|名)|名额",
        ),
        # A rate, a share or a tariff (百分之几, 利率是多少, 关税多少, 占多少): a percentage,
        # and the rate asked named.
        (
            r"百分之几|(?:几|多少)个(?:百分)?点|占(?:多少|几成|百分之)"
            r"|(?P<of>利率|利息|税率|关税|费率|汇率|提成)[^，。？?]{0,3}(?:多少|几|多高|多大|怎么算)",
            r"\d[\d.]*\s*[%％]|百分之[\d零一二三四五六七八九十]|个百分点",
        ),
        # When something takes effect, opens or is held (啥时候执行, 开放时间): a date or a span.
        (
            r"(?:啥|什么|何)时(?:候)?(?:开始|才)?(?:执行|实施|施行|生效|落地|开放|启动|举办|举行)"
            r"|(?:开放|办公|营业|执行|实施|发放|到账)时间"
            # When money is paid (啥时候发, 什么时候到账), when something starts (…啥时候开始).
            r"|(?:啥|什么|何)时(?:候)?(?:能|才)?(?:发|发放|到账|兑现|拨付)"
            r"|(?:啥|什么|何)时(?:候)?(?:开始|启动|结束)[吗呢啊？?。]*$",
            f"{_DATE}|之日起|{_DURATION}",
        ),
        # When an item must be done (那条要求几号前完成, 什么时候要完成): its deadline, a date, or
        # the year of a year's work document.
        (
            r"(?:几号|哪一?天|几月份?|什么时候|啥时候|何时)(?:之?前)?(?:要|得|必须|需要|才|能)?"
            r"(?:完成|做完|干完|达标)|完成(?:时限|期限)",
            f"{_DATE}|之日起|年度完成",
        ),
        # The day of an event or a sale (哪天, 几号开幕, 啥时候开卖): a date, not a span (每年).
        (
            r"(?:哪一?天|几号)(?!之?前)|几月几[日号]|(?:啥|什么|何)时(?:候)?(?:开幕|闭幕|开卖|开售|开票|开赛)",
            f"{_DATE}|之日起",
        ),
        # A deadline, a sign-up, a completion (啥时候截止, 报名时间, 什么时候建成): a date
        # itself, not a span nor a day named by an event (定期, 自批准之日起).
        (
            r"(?:啥|什么|何)时(?:候)?(?:开始)?(?:截止|结束|报名|申请|申报|开考|考试|考|受理)"
            # The month of it (资格考试几月份考, 几月份报名, 大赛几月份办)
            r"|几月份?(?:开始)?(?:截止|报名|申请|申报|开考|考试|考|受理|举办|举行|办)"
            r"|(?:啥|什么|何)时(?:候)?(?:交|提交|递交)(?:申请|材料)"
            # When something is finished (啥时候通车, 什么时候建成): a date too.
            r"|(?:啥|什么|何)时(?:候)?(?:能|才|可以)?(?:通车|建成|建好|完工|竣工|投用|投入使用|开通|开业|交付)"
            r"|(?:申请|报名|申报)(?:入口|通道|系统|窗口)[^，。？?]{0,2}(?:啥|什么|何)时"
            r"|(?:申报|申请|报名|截止)(?:时间|日期)|(?:报名|申请|申报)截止",
            _DATE,
        ),
        # How long it takes (多久到账, 验收要几个月): a span.
        (
            r"多久|多长时间|几天|(?:几|多少)个?工作日|(?:要|需要|得|用|等)几个?(?:月|星期|周|年)",
            _SPAN,
        ),
        # When a place is open (周末上不上班, 几点开门): its hours or days stated.
        (
            r"(?:周末|周六|周日|星期[六天日]|礼拜[六天日]|双休日?|节假日|假期|春节|过年|晚上|夜里|夜间|中午)"
            r"[^，。？?]{0,4}(?:上不上班|上班|开不开门?|开门|营业|休息|放假|值班|有没有人|接诊|开诊)"
            r"|几点(?:开门|上班|下班|关门|营业)",
            r"周末|节假日|双休|全天|24小时|延时|错时|夜间|午间|弹性",
        ),
        # The grade of a standard (出水要达到几类标准, 执行几级标准): a grade stated.
        (
            r"(?:几|哪一?)(?:类|级)(?:标准|水)|(?:排放|出水|水质)[^，。？?]{0,4}(?:什么|哪个|哪种|啥)标准",
            r"[一二三四五ⅠⅡⅢⅣⅤ\d]+类|[一二三四五\d]级[AB]?|[AB]标准|标准限值",
        ),
        # An age or a schooling asked of a person (年龄限制多少, 多少岁以下, 什么学历): stated.
        (
            r"(?:年龄|岁数)(?:有|是)?(?:限制|要求|上限|多大)|多大年纪|多少岁",
            # (Not a group named by its age, 就业年龄段: that states no age.)
            r"\d+\s*(?:周)?岁|[一二三四五六七八九十两]+(?:周)?岁|年龄(?:限制|要求|上限|下限|条件|放宽|不超过)",
        ),
        (
            r"(?:学历|文凭)(?:有|是)?(?:要求|限制)|(?:什么|啥|哪种)(?:学历|文凭)",
            r"学历|本科|硕士|博士|大专|专科|中专",
        ),
        # How many places (几个名额, 名额有多少): a number of them, or none limited.
        (
            r"(?:多少|几)个?名额|名额(?:有|是)?(?:多少|几个)",
            r"\d+\s*(?:名|个|人)|[一二三四五六七八九十百千万]+(?:名|个|人)|名额",
        ),
        # Conditions to qualify (要满足哪些条件, 门槛是什么).
        (
            r"(?:要|需要|得|满足|符合|具备|有)(?:什么|哪些|啥)(?:条件|资格|门槛)"
            r"|(?:条件|门槛|资格)(?:是|有)(?:什么|啥|哪些)",
            r"条件|资格|门槛|须|具备|满足",
        ),
        # A procedure (登记要走啥流程, 入党要经过哪些程序, 手续是什么): a procedure, or the rules
        # for one, named (of the thing asked where the question says it: 登记程序).
        (
            r"(?P<of>[\u4e00-\u9fff]{2}(?=(?:要|需要|得)?(?:走|经过|办|履行)?(?:什么|啥|哪些)"
            r"(?:流程|程序|手续|步骤)|的?(?:流程|程序|手续|步骤)(?:是|有)?(?:什么|啥|哪些)))?"
            r"(?:(?:要|需要|得)?(?:走|经过|办|履行)?(?:什么|啥|哪些)(?:流程|程序|手续|步骤)"
            r"|的?(?:流程|程序|手续|步骤)(?:是|有)?(?:什么|啥|哪些))",
            r"流程|程序|手续|步骤|办法|细则",
        ),
        # A relief for a person: a tax relief (能抵个税吗, 税前扣除), a share paid back (医保能报
        # 百分之多少, 报销比例): that relief named.
        (r"抵(?:扣)?个?税|个税|个人所得税|税前扣除", r"个税|个人所得税|扣除|抵扣|抵免"),
        (r"报(?:销)?(?:比例|百分之|几成)|报销[^，。？?]{0,3}(?:多少|几)", r"报销"),
        # A benefit for a person that only a measure naming it gives (能落户吗, 配偶安排工作,
        # 子女上学, 按揭, 退休金多领, 考研加分, 积分入户, 学费补偿).
        # (Not a firm or a project settling: 企业落户, 新落户的加工厂.)
        (
            r"(?P<of>(?<!企业)(?<!项目)(?<!公司)落户(?!的?[\u4e00-\u9fff]{0,3}(?:企业|厂|公司|项目))"
            r"|入户|配偶|随迁|子女|按揭|退休金|养老金|加分|积分|学费)",
            r"",
        ),
        # What a person who cannot pay does (贷款还不上, 摊位费交不起): a relief of what is owed
        # stated beside it.
        (
            r"(?P<of>[\u4e00-\u9fff]{2})(?:到期|的钱|的|了)?(?:还|交|付|缴|赔)不(?:上|起)",
            r"逾期|展期|代偿|延期|缓缴|缓交|减缴|暂免|减免|免征|免除|追偿|核销|分期|代缴|资助参保",
        ),
        # An accident (出了医疗事故, 起火的事故): a measure on accidents, safety or risks;
        # asked who answers for it too (see _ACCIDENT).
        (_ACCIDENT.pattern, r"事故|安全|风险|应急|救援|保险|工伤|意外|伤残|致残"),
        # A person's child at school (引进人才的孩子上学): a measure naming children's schooling.
        (r"的(?:孩子|小孩|娃)们?(?:上学|读书|入学|念书|就读)", r"子女|入学|就学"),
        # A benefit asked for (机器人公司上市有补贴吗): some benefit offered.
        (
            _BENEFIT_ASKED.pattern,
            r"补贴|补助|奖励|奖补|优惠|资助|扶持|支持|减免|免费|免收|倾斜|补偿|津贴|资金|经费|费用|激励"
            # a policy one enjoys (享受…税收政策), a tax relieved
            r"|保障|享受|免税|退税|免征",
        ),
        # Where a person looks something up (在哪查, 怎么查询): a look-up offered, not the thing
        # merely named.
        (
            r"(?:怎么|怎样|如何|咋|哪(?:里|儿|个网站|个平台)?)(?:查询?|查看|查到)",
            r"查询|查阅|查看|可查",
        ),
        # A list of names asked for itself (试点城市名单有哪些, 负面清单都有啥), a product to buy
        # (哪个牌子好, 在哪买): never stated (a responsibility document assigns the work, it does
        # not print the list nor recommend a product).
        (
            r"(?:名单|清单|名录|目录)(?:都|具体)?(?:有哪些|是哪些|有啥|有谁|包括哪些|包括什么)"
            r"|哪些(?:城市|地方|省份|地区|企业|公司|单位)(?:入选|列入|被选|被评|获评|评上|试点)"
            # (试点城市都有哪几个: the places or firms themselves, not the units in charge.)
            r"|(?:城市|地方|省份?|地区|企业|公司|学校|医院|园区|基地)(?:都|具体|分别)?(?:有|是)哪(?:几|些)"
            r"(?:个|家|所)?[呢啊？?。]*$|(?:都|具体)(?:有|是)哪(?:几|些)(?:个|家|所)?"
            r"(?:城市|地方|省份?|地区|企业|公司|学校|医院)[呢啊？?。]*$"
            r"|(?:哪个|哪种|什么|啥)(?:牌子|品牌|型号)|哪(?:一)?款|哪家(?:的)?(?:好|便宜|靠谱|划算)"
            r"|性价比|好不好用|(?:哪里|哪儿|在哪|去哪)(?:能|可以)?买|买(?:哪个|哪种|什么牌)",
            r"(?!)",
        ),
        # A punishment (会怎么处罚, 罚不罚, 有什么处分): one stated.
        (
            r"(?:怎么|怎样|如何|咋|会不会|会被|要不要|会)(?:处罚|惩罚|处分|问责|追责|罚)"
            r"|(?:什么|啥|哪些)(?:处罚|惩罚|处分|惩戒)|罚不罚|(?<!奖)罚吗",
            r"处罚|惩罚|惩戒|处分|问责|追责|追究|约谈|通报|扣减|罚款|罚没|限批|撤销|取消",
        ),
        # How a thing is chosen (举办城市怎么选, 怎么评出来): a way to choose stated.
        (
            r"(?:怎么|怎样|如何|咋)(?:选|挑|评)(?:出来|出|定|拔|择)?(?:的|呢|啊|吗)?[？?。]*$",
            r"选举|推选|直选|评选|遴选|选拔|选定|选派|择优|竞争性|评审|评定",
        ),
        # What comes after the document (下一届, 以后还会有新的…吗): named (it is about its
        # own period).
        (
            r"(?P<of>下一(?:届|轮|批|期|任)"
            r"|(?:以后|今后|将来|之后|结束后|到期后|明年|后年)还(?:会|能)(?:再)?(?:有|出|搞|办|继续)"
            # After a year or the end, the programme named between (2018年以后633工程还继续搞吗).
            r"|(?:\d{4}\s*年|结束|到期|期满)(?:以后|之后|后)[^，。？?还]{0,8}还(?:会|能|要)?(?:再)?"
            r"(?:有|出|搞|办|继续)"
            r"|(?:以后|今后|将来|明年|后年)[^，。？?]{0,8}(?:会|能|还)(?:再)?(?:有|出)新)",
            r"",
        ),
    )
)
# How an individual gets a benefit, pays or is paid back (怎么领, 要带什么材料, 去哪补办, 在哪交,
# 要什么条件, 赔不赔, 能追回吗): a responsibility document never says.
_PAY = "缴|交(?![流通往叉易接])"
_PROCEDURE = lazy(
    r"(?:怎么|怎样|如何|咋)(?:才能)?(?:在?网上|在?线上|在线|在?手机上?)?"
    rf"(?:领取?|申领|申请|申报|办理|报销|兑现|拿到?|享受|变更|注册|登记|报名|考取|补办|挂失|预约|挂号|备案|{_PAY})"
    rf"|哪(?:里|儿)?(?:可以|能)?(?:领|申领|申请|申报|办理?|补办|挂失|报名|预约|挂号|备案|{_PAY})"
    r"|找谁(?:领|申请|申报|办理?|补办)|(?:要|需要|满足|符合|具备)(?:什么|哪些|啥)条件"
    r"|(?:带|准备|提交|交|需要|要)些?(?:什么|哪些|啥)(?:材料|资料|证件|证明|手续)"
    # What to bring, said last (换证要带些啥); a person's own account (密码忘了, 登录不上).
    r"|要?带些?(?:什么|哪些|啥子?)(?:东西)?\s*[？?。！!]*$"
    r"|密码(?:忘|丢|找回|重置)|忘(?:了|记)?密码|登录?不上|登不进"
    # A form to fill in or download, a counter to go to (填什么表, 申请表在哪下载, 哪个窗口).
    r"|(?:填|下载|领)(?:什么|哪些|啥|哪个)表|在哪(?:里|儿)?下载|哪个?(?=窗口|大厅|网点|柜台)"
    r"|(?:办理|申请|申报|申领)(?:流程|程序|手续)"
    # How to get a licence or a card (营业执照咋办, 残疾证怎么办): its procedure.
    r"|(?<=[照证续])(?:要|该|得)?(?:怎么|咋|如何|怎样)办(?![法公])"
    r"|赔不赔|能不能赔|怎么赔|理赔|(?:怎么|能|能不能)追回"
    # A service to a person: where to look up or apply, how to sign up or complain, whether a
    # permit is needed, when an exam or a sign-up is (在哪查, 怎么开通, 要不要申请, 啥时候考).
    r"|(?:怎么|怎样|如何|咋)(?:开通|投诉|举报)|哪(?:里|儿|个网站|个平台)?(?:开通|投诉)"
    r"|(?:找|跟|向)(?:谁|哪个?(?:部门|单位))(?:投诉|举报|反映|维权)"
    r"|去哪个?(?:网站|平台)|(?:要不要|需不需要|用不用|需要)(?:申请|审批|报批|备案)"
    r"|(?:啥|什么|何时)时候(?:开?考|涨|报名|截止)|(?:截止|开始)报名|报名截止"
    # Something broken to be fixed (器材坏了找谁修).
    r"|(?:找谁|谁来?|哪个部门来?|找人|来|去)(?:修理?|维修)(?![订改缮建复路桥筑])"
    # Only the asking is taken out: the benefit itself must be what a measure names.
    r"|(?<=减免|免费|免税)(?:不|吗|么|没)"
    # Its A-not-A form ("免不免费", "收不收费"): asked as "免费吗".
    r"|免不(?=免[费税])|减不(?=减免)|收不(?=收[费税钱])"
    r"|(?:是不是|是否|能不能|可不可以|可以)(?=(?:免费|减免|免税)[的吗么呢啊呀？?。]*$)"
)
# A yes-or-no question about a thing (招不招, 考不考, 发不发): asked of a unit, it asks about that
# thing, not for the unit's list. Whether a unit is in charge (管不管, 是不是) is no such thing,
# nor what a person wants (想不想上班).
_YES_NO = lazy(r"([^\W\d_管是负有参配牵想])不\1")
# A unit's name (blanked once read) followed by 的 and a thing of its own ("体育局的批文"), not
# its duties ("体育局的任务", "的事", "的有哪些").
_POSSESSED = lazy(r"(?<= )的(?![事活任职工分举责哪什啥那这有是吗呢])[\u4e00-\u9fff]")
# The classifier 个 is scaffolding (几个, 这个, 给个) except where it starts a word: 个税, 个人,
# 个体 (一个人 and 每个人 still count a person).
_CLASSIFIER = lazy(r"(?<=[\d一二三四五六七八九十两几这那哪每各某整半])个|个(?![税人体性案别])")
# Clauses of a measure's text.
_CLAUSE = lazy(r"[，。；：,;:！？!?]")
_NUM = r"\d{1,2}|[一二三四五六七八九十两]{1,3}"
_MEASURE_ID = lazy(r"(?<![\d.])(\d{1,2})\s*[.。·]\s*(\d{1,2})(?![\d.])")
# Task numbers (第8项任务, 任务五, 第8、9项任务, 任务3至5, 8号任务) are read from tokens, each
# read once: a regex for such lists backtracks exponentially on a long run of numbers and
# separators, and restarts at every number of the run.
_TOKEN = lazy(
    r"(?P<num>\d+|[一二三四五六七八九十两]+)|(?P<sep>[、，,和与及~\-至到])|(?P<ord>第)"
    r"|(?P<cls>[项个条大])|(?P<task>(?:主要)?任务)|(?P<no>号)|(?P<space>\s+)"
)
# One blank at most between the parts of a reference: adjacent `\s*` backtrack
# cubically on a run of blanks.
# A measure 4.3 said as people say it: 四点三, 4点3, 四之三 (not 四分之三, 三点一刻, 一点一滴).
_SPOKEN_ID = lazy(
    rf"(?<![\d.一二三四五六七八九十两第分])({_NUM})\s?[点之.．·]\s?({_NUM})"
    r"(?![\d.一二三四五六七八九十两点滴刻分半钟号多个])"
    # 6-2 as a measure's number, not a span of tasks (任务3-5, 第3-5项, 3-5项任务).
    r"|(?<![\d.第务至到~\-])(\d{1,2})\s?[-—]\s?(\d{1,2})(?![\d.\-项条个号任大])"
)
# A place in a list: 第3条, 倒数第二条, 最后一条 (最后那个), 头一个 (开头那条), 中间那条.
# Not a span of time or a count of people: 最后一个月, 头一年, 第三个人.
_CLASS = r"(?:条|项|小条|小项|小点|个|款|点)(?![月年周天日季人次])"
_PLACE = (
    rf"(?:第\s?(?P<k>{_NUM})\s?{_CLASS}"
    rf"|倒数\s?第?\s?(?P<back>{_NUM})(?:\s?{_CLASS}|(?![\s个月年周天日季人次]))"
    rf"|(?P<last>最后|最末|末)\s?(?:的)?\s?(?:一|1|那|这)?\s?(?:一|1)?\s?{_CLASS}"
    rf"|(?P<first>头|开头|最前面?|首)\s?(?:的)?\s?(?:一|1|那|这)?\s?(?:一|1)?\s?{_CLASS}"
    # 中间那条: the middle one of an odd number (of an even number it names none).
    rf"|(?P<mid>正?中间)\s?(?:的)?\s?(?:那|这|一)\s?(?:一|1)?\s?{_CLASS})"
)
PLACE = lazy(_PLACE)
# A task by its number alone, pointed at: "贰 那一项", "3这项".
_LONE_TASK = lazy(rf"(?<![\u4e00-\u9fff\d])({_NUM})\s?[那这]一?大?项(?:任务)?")
# A task counted from the end: 倒数第二项任务, 最后一项任务, 最后那个大项.
_TASK_FROM_END = lazy(
    rf"倒数\s?第?\s?(?P<back>{_NUM})\s?(?:项|个|部分)?\s?(?:大项|(?:主要)?任务)"
    r"|(?P<last>最后|最末)\s?(?:的)?\s?(?:一|1|那|这)?\s?(?:一|1)?\s?(?:项|个|部分)?\s?"
    r"(?:大项|(?:主要)?任务)"
)
# A measure by its task and its place in it: 第7项任务第3条, 任务6的第2项, 第一大项里的第二小条,
# 第七项倒数第二条, 任务十最后一条, 第三大项的最后那个, 第四项行动最后一条.
_TASK_ITEM = lazy(
    rf"(?:倒数\s?第?\s?(?P<tb>{_NUM})\s?(?:项|个|大项|部分)\s?(?:主要)?(?:任务|行动)?"
    r"|(?P<tl>最后|最末)\s?(?:一|1|那|这)?\s?(?:项|个|大项|部分)\s?(?:主要)?(?:任务|行动)?"
    rf"|第\s?(?P<a>{_NUM})\s?(?:项|个|大项|部分)?\s?(?:主要)?(?:任务|行动)?"
    rf"|(?:主要)?任务\s?第?\s?(?P<b>{_NUM})"
    # "（6）第二个措施": the task's number in brackets, as the document writes its tasks
    rf"|^\s?[（(]\s?(?P<c>{_NUM})\s?[)）])"
    rf"\s?(?:的|里的|中的|里|中|下的|下面的|里面的|里头的|里面|里头|下面)?\s?(?:举措|措施)?\s?{_PLACE}"
)
# Asking who is in charge: the answer is a unit.
WHO_WORDS = r"谁|哪个部门|哪个单位|哪些部门|哪些单位|哪家单位"
# All that is asked beside a place with nothing before it ("倒数第二条是啥", "最后一条呢").
_ONLY_ASKED = lazy(
    r"[\s,，。？?！!]*(?:(?:是|说|讲|写)(?:的|了)?)?\s*(?:啥子?|什么|些什么|些啥)?(?:内容)?"
    rf"(?:(?:是|归)?(?:{WHO_WORDS})(?:来)?(?:负责|牵头|管)?(?:的)?)?"
    r"\s*(?:呀|啊|呢)?[\s。？?！!]*"
)
# A place counted over the whole document: 整个表倒数第二条, 全文最后一条, 所有举措里的第3条.
_WHOLE_PLACE = lazy(
    r"(?:(?:整个|整张|全部|全文|所有|全表)\s?(?:表格?|文件|文|方案|清单|通知|举措|措施)?"
    r"|(?:(?<![\u4e00-\u9fff])|(?<=这个)|(?<=这张)|(?<=这份))"
    r"(?:表格?|文件|方案|清单|分工表)(?:里|中|里面|里头))\s?"
    rf"(?:的|里的|中的|里|中|里面的|里头的)?\s?(?:举措|措施)?\s?{_PLACE}"
)
_LIST_PART = lazy(rf"({_NUM})|(至|到|~|-)")
# An item by the document's own number: 第（十）条, （十一）, 第10条; 第10项 too, unless it says
# 任务. Only for documents that number their items (bot/documents/importer.py keeps the numbers).
_DOC_NUMBER = lazy(
    r"第?\s*[（(]\s*(?P<bracketed>[一二三四五六七八九十百两]{1,4}|\d{1,3})\s*[)）]\s*"
    r"(?P<of>条|项|款)?"
    r"|第\s*(?P<plain>[一二三四五六七八九十百两]{1,4}|\d{1,3})\s*(?P<kind>条|项|款)"
    r"(?!\s*(?:主要)?任务)"
    r"|序号\s*(?P<row>\d{1,3})"
    # 十六条 said at the start of a clause, without 第.
    r"|(?:^|(?<=[\s，,。？?！!]))(?P<bare>[一二三四五六七八九十百]{1,4}|\d{1,3})\s*(?P<item>条|款)"
    r"(?!\s*(?:主要)?任务)"
)
# A phrase quoted from the document: “以用定产”, 「光盘行动」.
_QUOTED = lazy(r"[“\"「『‘']([^“”\"「」『』‘’']{2,40})[”\"」』’']")
# Last characters of a body's short name (残联, 团委, 法院): no topic word ends so.
_BODY_ENDS = frozenset("联会委局厅办院部署社")
# Particles that end a phrase: a name's last character is never typed as one of them.
_PARTICLES = frozenset("的了吗呢吧啊么嘛呀")
# A task named by what it is about, as a whole: "…那一大项", "…这项行动下面都有什么".
_WHOLE_TASK = lazy(r"[那这](?:一(?:大项|项|部分)|大项|项行动|项任务|部分)(?:行动|任务)?")
# A word said as a matter, not as a body ("扶贫那块", "医保方面", "教育工作"), or last after a
# unit as in "教育厅 大学生" (the reading of a chat takes 那块 out).
_MATTER = lazy(r"\s*(?:那一?块|这一?块|方面|工作|的事|这事|问题|[呢吗？?。]*$)")
# Words people put after a unit's name that only point at it (税务这边, 民政口子, 残联那儿).
_FILLER = lazy(r"这边|那边|这块|那块|这儿|那儿|这里|那里|口子|这头|那头|系统|方面")
# A word joined to a unit's name and asked of distributively ("税务和烟草各管哪些").
_COORDINATED = lazy(r"[和与及、跟]([\u4e00-\u9fff]{2,6}?)(?=各|都|分别|一起|共同)")
_LEVEL_PREFIX = lazy(r"^(?:四川省|中共|国家|省|市|区|县|州)")
# A year's work document (2021年重点工作, 2025年…重要工作事项), not a plan over several years.
_YEARLY = lazy(r"(?<![\d—–\-~至到])\d{4}\s*年(?!\s*[—–\-~至到])[^（）()]{0,10}(?:重点|重要|工作)")
# A document's own rule of which place in a list leads.
_POSITION_RULE = lazy(r"(?:列|排|排名|排在)第一")
# Asking who is in charge: a unit's word in it is the topic's.
_ASKS_WHO = lazy(WHO_WORDS)
# Several units asked about together: what they share.
_JOINT = lazy(
    # "一起挂名": named together as responsible units (挂名 alone is a sham job).
    r"(?:一起|一块儿?|一同|共同|同时|都)(?:挂名|署名|列名|上名|在列)"
    r"|一起|一块儿|一同|(?:共同|同时|都|一块)(?=负责|参与|牵头|管|承担)"
    r"|都(?:有份|涉及|在(?:里|其中|内))"
)
# Who leads (牵头) and who supports (配合), where the document says so. 参与 asks for every
# item the unit takes part in, whatever its role ("科信局都参与了哪些", "牵头或参与的").
# Everyday words for them: 主要负责, 带头, 挑头; 打下手, 帮忙 (not 带头人, 主要负责人: persons).
# "作为配合单位" is the role too (作为 alone is a word of topics: 不作为).
# The roles as documents write them.
_ROLE_WORD = {"lead": "牵头", "support": "配合", "guide": "指导"}
# An office inside a body (内设处室: 医政处, 综合科), said after it ("卫健委医政处").
_OFFICE = lazy(r"[处科室]$")
# A list of one-character items (县、乡; 省、市、县): each with the next.
_LISTED = lazy(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])、(?=([\u4e00-\u9fff]))")
# "邮政公司（不是邮政管理局）": a name said not to be meant (是不是 asks, it does not negate).
# "不归我们教育厅管吧": not ours (归不归 asks).
_NEGATED = lazy(
    r"(?<![是归属])(?:(?:不是|并非|而非|不归|不属于?)(?:问|说|指)?的?(?:我们|咱们)?\s*"
    r"|(?:别|不要)(?:跟|和|与))[（(]?$"
)
# "第七项里讲宣讲那条", "第五项哪条讲辅助性就业": one item described, within the task named.
_ONE_ITEM = lazy(r"[那哪]一?条|讲|关于|涉及")
_ROLE = lazy(
    r"(?:作为)?(?:(牵头|主责|主办|主抓|主要负责(?!人)|带头(?!人)|领头(?!人)|挑头)"
    r"|(配合|协办|协助|打下手|帮忙|帮着)|(指导)|参与)"
)
_CHINESE_NUMBER = lazy(r"[一二三四五六七八九两]|[二三四五六七八九]?十[一二三四五六七八九]?")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
# Undecodable input bytes reach Python as lone surrogates (stdin uses surrogateescape);
# no encoder accepts them, so they are replaced before the text is normalised.
_SURROGATE = lazy(r"[\ud800-\udfff]")
# A count a measure may write (90条, 15支, 80%); not a date or a time.
_COUNT = lazy(r"(?<![\d.])\d{2,}(?:[^\W\d_年月日号时点岁]|%)")
# Latin letters typed for a name's first characters (rs厅), and a number in Chinese numerals.
_LETTERS = lazy(r"(?<![a-z0-9])[a-z]{2,4}(?![a-z0-9])")
# "rw4第3条": the words of a document's structure by their pinyin initials, before a number.
_STRUCTURE = {"rw": "任务", "cs": "措施"}
_STRUCTURE_LETTERS = lazy(r"(?<![a-z0-9])(?:rw|cs)(?=[0-9一二三四五六七八九十])")
_NUMERAL = lazy(
    r"(?<![一二三四五六七八九十两百千万零])[一二三四五六七八九十两]{2,3}(?=[\u4e00-\u9fff])"
)
# Quotation marks inside a document's words (“三公”经费, “互联网+”政务): read without them, so
# that the word is one (三公经费), as a person reads it.
_QUOTES = str.maketrans("", "", "“”‘’「」『』\"'")


def task_numbers(text: str) -> list[int]:
    """Expand a list of task numbers: "8、9" -> [8, 9]; "3至5" -> [3, 4, 5]."""
    numbers: list[int] = []
    ranged = False
    for number, dash in _LIST_PART.findall(text):
        if dash:
            ranged = True
            continue
        value = chinese_number(number)
        if ranged and numbers and numbers[-1] < value <= numbers[-1] + 20:
            numbers += list(range(numbers[-1] + 1, value + 1))
        else:
            numbers.append(value)
        ranged = False
    return numbers


def chinese_number(text: str) -> int:
    """Parse 1-99 written in Arabic or Chinese numerals (八, 十, 十六, 二十三)."""
    if text.isdecimal():
        return int(text)
    if not _CHINESE_NUMBER.fullmatch(text):
        return 0
    if "十" not in text:
        return _DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return (_DIGITS.get(tens, 0) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)


def task_phrases(text: str) -> list[tuple[int, int, str]]:
    """Find the phrases naming task numbers: (start, end, the list of numbers), in order.

    The phrasings, each read over the whole text before the next: 第…(项|个|条|大)?(主要)?任务,
    (主要)?任务第?…, 第…(大)?项, …号(主要)?任务; "…" is one number or a list (8、9; 3至5;
    第8、第9).
    Each phrasing's phrases do not overlap. Linear in the length of the text.
    """
    kinds: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _TOKEN.finditer(text):
        name = m.lastgroup or ""
        # 100 or 十二三四 is no task number, and no number may be read from inside it.
        if name == "num" and len(m.group()) > (2 if m.group().isdecimal() else 3):
            name = "long"
        kinds.append(name)
        starts.append(m.start())
        ends.append(m.end())
    count = len(kinds)

    def after(i: int) -> int:
        # The token right after token i, past blanks; -1 when something else comes between.
        j = i + 1
        if j < count and kinds[j] == "space" and starts[j] == ends[i]:
            j += 1
        return j if j < count and starts[j] == ends[j - 1] else -1

    def kind(i: int) -> str:
        return kinds[i] if i >= 0 else ""

    # last[i]: the last number of the list that starts at number i (computed right to left).
    last = list(range(count))
    for i in reversed(range(count)):
        j = after(i) if kinds[i] == "num" else -1
        if kind(j) == "sep":
            j = after(j)
            j = after(j) if kind(j) == "ord" else j
            if kind(j) == "num":
                last[i] = last[j]

    def listed(i: int) -> tuple[int, int]:
        # The list right after token i, past blanks: (its first number, its last), or (-1, -1).
        j = after(i)
        return (j, last[j]) if kind(j) == "num" else (-1, -1)

    # Each phrasing, given its first token: (first number, last number, last token) or None.
    def ordinal_task(i: int) -> tuple[int, int, int] | None:
        first, end = listed(i)
        tail = after(end) if first >= 0 else -1
        tail = after(tail) if kind(tail) == "cls" else tail
        return (first, end, tail) if kind(tail) == "task" else None

    def task_ordinal(i: int) -> tuple[int, int, int] | None:
        j = after(i)
        first, end = listed(j) if kind(j) == "ord" else listed(i)
        # 任务三 followed by 3 is no task three.
        if first < 0 or text[ends[end] : ends[end] + 1].isdecimal():
            return None
        return first, end, end

    def ordinal_item(i: int) -> tuple[int, int, int] | None:
        first, end = listed(i)
        tail = after(end) if first >= 0 else -1
        # 第九大项: a heading, as 第九项 is.
        if kind(tail) == "cls" and text[starts[tail]] == "大":
            tail = after(tail)
        return (first, end, tail) if kind(tail) == "cls" and text[starts[tail]] == "项" else None

    def numbered_task(i: int) -> tuple[int, int, int] | None:
        tail = after(last[i])
        tail = after(tail) if kind(tail) == "no" else -1
        return (i, last[i], tail) if kind(tail) == "task" else None

    phrasings = (
        ("ord", ordinal_task),
        ("task", task_ordinal),
        ("ord", ordinal_item),
        ("num", numbered_task),
    )
    found: list[tuple[int, int, str]] = []
    for first_kind, match in phrasings:
        reached = 0  # like re.finditer: a phrase starts after the end of the one before
        for i in range(count):
            if kinds[i] != first_kind or starts[i] < reached:
                continue
            phrase = match(i)
            if phrase:
                first, end, tail = phrase
                found.append((starts[i], ends[tail], text[starts[first] : ends[end]]))
                reached = ends[tail]
    return found


def states(question: str, text: str) -> bool:
    """Tell whether a measure's text states every detail the question asks for (_DETAILS): an
    amount a number, a date a date, a procedure a procedure, what comes after the document
    (下一届) the same words. What the detail is of (利率, 登记) must stand in a clause that
    states it."""
    for asked, stated in _DETAILS:
        found = asked.search(question)
        if not found:
            continue
        of = found.groupdict().get("of")
        clauses = _CLAUSE.split(text) if of else [text]
        if not any((not of or of in c) and stated.search(c) for c in clauses):
            return False
    return True


def stated(measure: Measure, yearly: bool = False) -> str:
    """Return what a measure states: its text, and its deadline (完成时限) where it has one;
    in a year's work document (`yearly`: 2021年重点工作) an item is done within that year."""
    if measure.deadline:
        return f"{measure.text}。完成时限：{measure.deadline}"
    return f"{measure.text}。年度完成" if yearly else measure.text


def asked_details(question: str) -> str:
    """Return the question with the details it asks for (_DETAILS) blanked out."""
    for asked, _ in _DETAILS:
        question = asked.sub(lambda m: " " * len(m[0]), question)
    return question


def place(match: re.Match[str], count: int) -> int:
    """Return the 1-based place a `PLACE` match names in a list of `count` (0: outside it)."""
    if match.group("last"):
        return count
    if match.group("first"):
        return 1 if count else 0
    if match.group("mid"):
        return (count + 1) // 2 if count % 2 else 0
    back = match.group("back")
    number = count + 1 - chinese_number(back) if back else chinese_number(match.group("k"))
    return number if 1 <= number <= count else 0


def _doc_key(text: str) -> tuple[int, bool]:
    """Return a document number as (number, written in brackets)."""
    return doc_number(text), text.strip().startswith(("（", "("))


def doc_number(text: str) -> int:
    """Return a document's own item number as a number ("（十一）" -> 11, "3." -> 3); 0: none."""
    core = text.strip().strip("（）()、.．，,第条项款 ")
    if core.isdecimal():
        return int(core) if len(core) <= 3 else 0
    if "百" in core:
        return 0
    return chinese_number(core)


@dataclass(frozen=True)
class Answer:
    """What the engine understood and the measures that answer it, best first."""

    query: str
    kind: Kind
    units: tuple[str, ...] = ()
    tasks: tuple[int, ...] = ()
    measures: tuple[Measure, ...] = ()
    # Ids of measures listed only because they bind every provincial unit.
    shared: frozenset[str] = frozenset()
    # Typed names the engine read as a unit's name: (as typed, canonical unit).
    corrections: tuple[tuple[str, str], ...] = ()
    # A topic asked together with a unit that none of the unit's measures is about.
    missed_topic: str = ""
    suggestions: tuple[str, ...] = ()
    # Nothing answers the question for sure; these measures come nearest (offered as such).
    nearest: tuple[Measure, ...] = ()
    # Units of another place the question asked about (广东省残联): not in this document.
    elsewhere: tuple[str, ...] = ()
    # What the question is about besides units and numbers, as typed (盲人按摩): a follow-up
    # such as "那卫健委呢" asks the same of another unit.
    topic: str = ""
    # The question was longer than MAX_QUESTION: only its start was read.
    truncated: bool = False
    # "lead" / "support" / "guide": only the measures the units lead (牵头), support (配合) or
    # guide (指导); "joint": those the units share; "" all; "unstated": asked, but the document
    # does not say who leads.
    role: str = ""

    @property
    def no_match(self) -> bool:
        """Tell whether nothing in the document answers the question."""
        return self.kind == "none"

    def to_json(self) -> dict[str, Any]:
        """Return the scorer's JSON shape."""
        return {
            "query": self.query,
            "units": list(self.units),
            "tasks": list(self.tasks),
            "measures": [m.id for m in self.measures],
            "no_match": self.no_match,
        } | ({"suggestions": [m.id for m in self.nearest]} if self.nearest else {})


class _Said(NamedTuple):
    """An everyday description found in a question: where, and which phrase of the map."""

    start: int
    end: int
    phrase: str


@dataclass
class _Query:
    """A question being read: its normalised text and which characters are explained."""

    text: str
    used: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = [False] * len(self.text)

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """Return the matches of `pattern` over characters not yet explained, marking them."""
        return [m for m in pattern.finditer(self.text) if self.claim(m.start(), m.end())]

    def claim(self, start: int, end: int) -> bool:
        """Mark text[start:end] explained unless part of it already is; tell whether it was.

        Callers claim non-overlapping spans, so checking them costs the text's length at most.
        """
        if any(self.used[start:end]):
            return False
        self.used[start:end] = [True] * (end - start)
        return True

    def rest(self) -> str:
        """Return the text with explained characters blanked out."""
        return "".join(" " if u else c for c, u in zip(self.text, self.used, strict=True))


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    # Longest first, so that at each position the longest word wins; words of one length in
    # their order, so that the pattern is the same in every process (bot/documents/pattern.py
    # keeps the compiled one by its text).
    ordered = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    # Compiled on first use: some are only built into larger patterns, some serve few questions.
    return lazy("|".join(map(re.escape, ordered)) or r"(?!)")


class Engine:
    """Answers questions about one plan; build once, then call `answer` per question."""

    def __init__(self, plan: Plan, lexicon: Lexicon) -> None:
        self.plan = plan
        self.lexicon = lexicon
        self._alias_unit: dict[str, str] = {}
        for unit in plan.units:
            for name in (*unit.names(), *unit.misspellings):
                for variant in _name_variants(normalize(name)):
                    self._alias_unit.setdefault(variant, unit.name)
        self._titles = {
            core: task.number
            for task in plan.tasks
            for core in _title_cores(normalize(task.title))
        }
        self._title_re = _alternation(self._titles)
        self._synonyms = {
            normalize(k): [normalize(v) for v in vs] for k, vs in lexicon.synonyms.items()
        }
        self._synonym_re = _alternation(self._synonyms)
        self._stop_words = {normalize(w) for w in lexicon.stop}
        self._stop_re = lazy(
            f"{_alternation(self._stop_words - {'个'}).pattern}|{_CLASSIFIER.pattern}"
        )
        self._stop_sounds = {sound(w) for w in self._stop_words if len(w) == 2 and is_cjk(w)}
        self._not_units_re = _alternation(normalize(w) for w in lexicon.not_units)
        self._not_topics_re = _alternation(normalize(w) for w in lexicon.not_topics)
        written = normalize(
            " ".join([plan.document.title, plan.document.issuer, *(t.title for t in plan.tasks)])
            + " ".join(m.text for m in plan.measures)
        ).translate(_QUOTES)
        # Places the document itself names are its own (广州 in a 广州 document).
        places = [p for p in map(normalize, lexicon.other_places) if p not in written]
        # Another place as the owner of what is asked (重庆的补贴, 浙江省出台的); not where
        # someone goes (去浙江做盲人按摩).
        self._places_re = lazy(f"(?<![去到来从回])(?:{_alternation(places).pattern})")
        # Nor the places aid goes to (对口支援新疆、西藏, 帮扶贵州): the document's own work.
        # Up to three places in a list, each optional: no nested repeat to backtrack.
        place = f"(?:{_alternation(places).pattern})"
        self._aided_re = lazy(
            f"(?:支援|援助|帮扶|援建){place}(?:[、和与及]?{place})?(?:[、和与及]?{place})?"
            # Nor where someone also has staff or a branch (公司在重庆也有残疾员工): their own.
            f"|在{place}(?:[、和与及]?[\u4e00-\u9fff]{{2,3}}?)?[也都还]?"
            "(?:(?:有|开了|设了)(?:残疾)?(?:员工|职工|工人|分公司|子公司|工厂|厂|门店|分店|网点|基地)"
            "|(?:招了|雇了)(?:残疾人|员工|工人))"
        )
        self._written = written
        self._written_terms: dict[str, bool] = {}
        self._title = normalize(plan.document.title)
        # A typo is read against the names the units file gives (残连 is 残联, not 残工).
        self._typed_names = list(self._alias_unit)
        # After every unit's own names (市教育局 may be one of them), and no name a typo is
        # read against (文物局 is no 文旅局).
        for unit in plan.units:
            for name in unit.names():
                for variant in _local_variants(normalize(name)):
                    self._alias_unit.setdefault(variant, unit.name)
        # Short forms people say that the units file does not list (税务, 乡振局): derived by
        # the rules of bot/documents/shortname.py, for every document.
        names = {
            unit.name: tuple(normalize(n) for n in (*unit.names(), *unit.misspellings))
            for unit in plan.units
        }
        # Kept between processes of `ask` while the document and the code are the same.
        spoken = remembered(
            "spoken",
            _sources(),
            (names, written),
            lambda: spoken_aliases(names, written, _name_variants),
        )
        for form, owner in spoken.items():
            self._alias_unit.setdefault(form, owner)
        self._aliases = _alternation(self._alias_unit)
        # Words the document writes outside its units' names (法院 of 人民法院, 规划): a
        # question asking who is about them, not about a unit they name.
        full = sorted(
            {normalize(n) for u in plan.units for n in (u.name, u.full_name)},
            key=len,
            reverse=True,
        )
        outside = _alternation(full).sub("\n", written) if full else written
        self._words = frozenset(a for a in self._alias_unit if len(a) <= 3 and a in outside)
        # Each unit's name without its level (烟草专卖局 of 省烟草专卖局), to read a start of it.
        self._cores = [
            (_LEVEL_PREFIX.sub("", normalize(n)), unit.name)
            for unit in plan.units
            for n in unit.names()
            if not unit.name.startswith("各")
        ]
        # Another place's name right before a unit's name: 广东省残联, 北京市的人社局.
        self._elsewhere_re = lazy(
            f"(?:{_alternation(places).pattern})(?:省|市|自治区|特别行政区)?的?$"
        )
        # The document's own place before a unit's name is part of it (广州市规划局 in a 广州
        # document), no topic.
        own = [p for p in map(normalize, lexicon.other_places) if p in written]
        self._own_place_re = lazy(f"(?:{_alternation(own).pattern})(?:省|市|区|县)?的?$")
        # How far before a unit's name such a place can start: the longest place, 特别行政区, 的
        # (and a line break, which `$` may precede).
        self._elsewhere_reach = max(map(len, places), default=0) + len("特别行政区的\n")
        self._build_index()
        # Everyday descriptions of the terms this document writes (the rest of the map is
        # about other policy areas).
        self._concepts = concepts_in(written, self._idf)
        self._concept_re = _alternation(self._concepts)
        self._concept_starts = frozenset(phrase[0] for phrase in self._concepts)
        # Each phrase of four characters or more by its two parts (a head of two at least).
        self._concept_parts: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for phrase in sorted(self._concepts, key=len, reverse=True):
            for k in range(2, len(phrase) - 1):
                self._concept_parts[phrase[:k]].append((phrase[k:], phrase))
        self._part_lengths = sorted({len(head) for head in self._concept_parts}, reverse=True)
        # Each two-character phrase by its first character (a quantity may stand between).
        self._pairs: dict[str, list[str]] = defaultdict(list)
        for phrase in self._concepts:
            if len(phrase) == 2:
                self._pairs[phrase[0]].append(phrase)
        self._part_starts = frozenset(head[:2] for head in self._concept_parts)
        # A question's descriptions are looked for several times while it is answered.
        self._said: dict[str, tuple[_Said, ...]] = {}
        # The document's own numbers of its items and headings, where it numbers them; (n, True)
        # for a number written in brackets, （十）.
        self._doc_measures: dict[tuple[int, bool], Measure] = {}
        for m in plan.measures:
            if doc_number(m.doc_number):
                self._doc_measures.setdefault(_doc_key(m.doc_number), m)
        self._doc_headings = {
            _doc_key(t.doc_number): t.number for t in plan.tasks if doc_number(t.doc_number)
        }
        self._doc_tasks = {n: task for (n, _), task in self._doc_headings.items()}
        self._roles = any(m.lead or m.guide for m in plan.measures)
        self._yearly = bool(_YEARLY.search(normalize(plan.document.title)))
        # Where no item states which place leads ("列第一位者为牵头单位"), the first listed does.
        self._first_leads = not any(_POSITION_RULE.search(m.unit_note) for m in plan.measures)
        # Catch-alls a question may ask about like a unit (各省级人民政府 → 省级政府).
        self._catch_alls: dict[str, str] = {}
        for m in plan.measures:
            for term in m.catch_all:
                for alias in _catch_all_aliases(normalize(term)):
                    self._catch_alls.setdefault(alias, term)
        self._catch_all_re = _alternation(self._catch_alls)
        # Names of two or more characters can be matched with a one-character typo.
        self._typo_names: dict[str, list[str]] = defaultdict(list)
        for alias in self._typed_names:
            if len(alias) >= 2 and is_cjk(alias):
                # A typo keeps the name's first character: names are looked up by it.
                self._typo_names[alias[0]].append(alias)
        self._typo_lengths = sorted({len(a) for names in self._typo_names.values() for a in names})

    # -- indexes -------------------------------------------------------------------------

    def _build_index(self) -> None:
        measures = self.plan.measures
        self._measures = measures
        self._position = {m.id: i for i, m in enumerate(measures)}
        self._texts: list[str] = []
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        lengths = []
        for i, m in enumerate(measures):
            title = self.plan.tasks[m.task - 1].title
            text = normalize(f"{m.text} {title}").translate(_QUOTES)
            counts = Counter(tok for run in runs(text) for tok in bigrams(run) if len(tok) > 1)
            # Levels listed one character each (县、乡两级) are said together (县乡).
            counts.update(a + b for a, b in _LISTED.findall(text))
            for tok, n in counts.items():
                postings[tok][i] = n
            lengths.append(sum(counts.values()))
            self._texts.append(text)
        n_docs = len(measures)
        avg_len = sum(lengths) / max(n_docs, 1)
        self._postings = dict(postings)
        # BM25's length normalisation, computed once per measure.
        self._norm = [BM25_K1 * (1 - BM25_B + BM25_B * n / avg_len) for n in lengths]
        # What a word adds to a measure's score at most, for _top's bounds, as a share of its
        # weighted idf: its largest tf part (tf / (tf + norm)) where many measures hold it;
        # else 1, more than any (a few postings are walked at little cost anyway).
        self._peak = {
            tok: max(tf / (tf + self._norm[i]) for i, tf in p.items())
            for tok, p in postings.items()
            if len(p) > PEAKED
        }
        self._idf = {
            tok: math.log((n_docs - len(p) + 0.5) / (len(p) + 0.5) + 1)
            for tok, p in postings.items()
        }
        self._max_idf = math.log((n_docs + 0.5) / 0.5 + 1)
        # Characters, for the recall ranking: each measure's, and how rare each is.
        self._char_sets = [frozenset(text) for text in self._texts]
        held = Counter(
            c
            for held_by in self._char_sets
            for c in held_by
            if is_cjk(c) and c not in _FUNCTION_CHARS
        )
        self._char_idf = {c: math.log((n_docs + 1) / (n + 0.5)) for c, n in held.items()}
        # The document's words by sound, to read a pinyin-keyboard slip (按磨) as meant (按摩).
        sounds: dict[str, list[str]] = defaultdict(list)
        for tok in postings:
            if len(tok) == 2 and is_cjk(tok):
                sounds[sound(tok)].append(tok)
        self._sounds = dict(sounds)
        # Every short substring of the document and lexicon: a typo is a string outside it.
        corpus = [normalize(m.text) for m in measures]
        corpus += [normalize(t.title) for t in self.plan.tasks]
        corpus += list(self._synonyms) + [w for vs in self._synonyms.values() for w in vs]
        corpus += [normalize(w) for w in self.lexicon.stop]
        self._vocabulary = {
            s[i : i + n] for s in corpus for n in range(2, 7) for i in range(len(s) - n + 1)
        }

    # -- answering -----------------------------------------------------------------------

    def answer(self, question: str) -> Answer:
        """Answer one question from its first MAX_QUESTION characters; never raises."""
        question = _SURROGATE.sub("\ufffd", question)
        text = plain(normalize(question[:MAX_QUESTION]))
        answer = self._read(question, _Query(self._respelled(text)))
        if question[MAX_QUESTION:].strip():
            return dataclasses.replace(answer, truncated=True)
        return answer

    @functools.cached_property
    def _initials(self) -> dict[str, list[str]]:
        """Names by the pinyin initials of their first characters (rs厅, rsj for 人社厅; rs for
        人社); made when a question first holds Latin letters, not at start-up."""
        table: dict[str, list[str]] = defaultdict(list)
        for alias in self._alias_unit:
            if len(alias) >= 2 and is_cjk(alias):
                for k in range(2, min(len(alias), 4) + 1):
                    table[initials(alias[:k])].append(alias)
        return dict(table)

    @functools.cached_property
    def _sounded(self) -> tuple[dict[str, str], dict[str, list[int]]]:
        """Each everyday phrase by its first character and the sound of the rest (玉米杆 for
        玉米秆, 麦杆 for 麦秆), and the lengths of the phrases each character starts; made when
        first needed, not at start-up."""
        by_sound = {
            phrase[0] + sound(phrase[1:]): phrase
            for phrase in sorted(self._concepts, reverse=True)
        }
        lengths: dict[str, set[int]] = defaultdict(set)
        for phrase in self._concepts:
            lengths[phrase[0]].add(len(phrase))
        return by_sound, {c: sorted(ns, reverse=True) for c, ns in lengths.items()}

    def _respelled(self, text: str) -> str:
        """Return the question with what it spells otherwise written as the document does.

        A unit's name started with pinyin initials (rs厅, rsj) where they name one unit; 任务
        as rw before its number; a number in Chinese numerals that the document writes in
        digits before the same character (九十条 where it writes 90条).
        """
        spelled = list(text)
        for m in _LETTERS.finditer(text):
            letters = m.group(0)
            if letters in self._written:
                continue  # the document's own letters (ai, gdp)
            begun = self._initials.get(letters, ())
            names = [
                a
                for a in begun
                if len(a) > len(letters) and text.startswith(a[len(letters) :], m.end())
            ]
            # Letters alone ("rs这边") stand for a name of as many characters (人社).
            names = names or [a for a in begun if len(a) == len(letters)]
            if len({self._alias_unit[a] for a in names}) == 1:
                spelled[m.start() : m.end()] = names[0][: len(letters)]
        for m in _STRUCTURE_LETTERS.finditer(text):
            if m.group(0) not in self._written:
                spelled[m.start() : m.end()] = _STRUCTURE[m.group(0)]
        for m in _NUMERAL.finditer(text):
            value, after = chinese_number(m.group(0)), text[m.end() : m.end() + 1]
            digits = str(value)
            if (
                value >= 10
                and digits + after in self._written
                and m.group(0) + after not in self._written
            ):
                spelled[m.start() : m.end()] = digits.rjust(m.end() - m.start())
        return "".join(spelled)

    def _read(self, question: str, q: _Query) -> Answer:
        """Answer `question` from its normalised start `q`."""
        ids = [f"{int(a)}.{int(b)}" for a, b in (m.groups() for m in q.take(_MEASURE_ID))]
        measures = tuple(m for i in dict.fromkeys(ids) if (m := self.plan.measure(i)))
        measures = measures or self._spoken(q) or self._task_items(q) or self._quoted(q)
        headings: tuple[int, ...] = ()
        if not measures:
            measures, headings = self._numbered(q)
        if measures:
            tasks = tuple(dict.fromkeys(m.task for m in measures))
            # "6.3 里发改委要干啥": the units asked about go with the measure.
            asked = tuple(self._find_units(q)[0])
            return Answer(question, "measure", units=asked, tasks=tasks, measures=measures)
        if headings:
            return self._task_answer(question, headings)
        numbers = [self._task_from_end(m) for m in q.take(_TASK_FROM_END)]
        # "贰 那一项": a number alone, pointed at as a task.
        numbers += [chinese_number(m.group(1)) for m in q.take(_LONE_TASK)]
        numbers += [
            self._doc_tasks.get(n, n)
            for start, end, listed in task_phrases(q.text)
            if q.claim(start, end)
            for n in task_numbers(listed)
        ]
        tasks = tuple(n for n in dict.fromkeys(numbers) if self.plan.task(n))
        task = self.plan.task(tasks[0]) if len(tasks) == 1 else None
        if task and _ONE_ITEM.search(q.text):
            # "第七项里讲高校宣讲那条": the item of that task the rest describes.
            inside = [self._position[m.id] for m in task.measures]
            ranked = self._ranked(q.rest(), inside)
            if ranked and len(ranked) < len(inside):
                return Answer(question, "measure", tasks=tasks, measures=ranked)
        if tasks:
            return self._task_answer(question, tasks)
        units, corrections, elsewhere = self._find_units(q)
        if units and self._places_re.search(self._aided_re.sub(" ", q.rest())):
            # "国资委在广东有啥任务": what the unit does in another place is no duty here.
            return Answer(question, "none", suggestions=self.lexicon.examples)
        if units and self._detail(q.text):
            # "烟草专卖局局长是谁": who heads a body is no duty of the document.
            return Answer(question, "none", suggestions=self.lexicon.examples)
        if units:
            found = self._unit_answer(question, q, units, corrections)
            if found.kind == "unit" and found.missed_topic and _POSSESSED.search(q.rest()):
                # "还要体育局的批文吗": a thing of the unit's (its 批文) that none of its items
                # names is asked about, not the unit's duties; the document may name it.
                ranked = self._ranked(q.rest(), range(len(self._measures)))
                if ranked:
                    topic = self._topic_words(q.rest())
                    return Answer(question, "topic", measures=ranked, topic=topic)
            if found.kind == "unit" and (
                _PROCEDURE.search(q.text)
                or _YES_NO.search(found.missed_topic)
                or (found.measures and not any(self._states(q.text, m) for m in found.measures))
            ):
                # "烟草局招人啥时候考": a service to a person none of the unit's items names;
                # "税务局收多少钱": an amount none of them states.
                return Answer(question, "none", suggestions=self.lexicon.examples)
            return found
        if elsewhere:
            return Answer(question, "none", elsewhere=elsewhere, suggestions=self.lexicon.examples)
        named = [m for m in self._catch_all_re.finditer(q.text) if q.claim(m.start(), m.end())]
        if named:
            # "各省级人民政府负责什么": the items that bind them.
            terms = tuple(dict.fromkeys(self._catch_alls[m.group(0)] for m in named))
            bound = tuple(m for m in self._measures if set(terms) & set(m.catch_all))
            return Answer(question, "unit", units=terms, measures=bound)
        titled = self._titled(q)
        if titled:
            return self._task_answer(question, titled)
        # Things the document does not cover though they share its words (生活补贴 is not its
        # 补贴): what else the question says only qualifies them (标准, 怎么申请).
        # Unless the question also describes a thing the document names (借残疾证挂名: 挂名
        # is its 虚假安排): then the thing not covered only says how it is done.
        off_topic = self._not_topic(q.text) or self._outside(q.text)
        described = None if off_topic else self._described_task(q)
        if described:
            return self._task_answer(question, (described,))
        ranked = () if off_topic else self._ranked(q.rest(), range(len(self._measures)))
        counted = () if off_topic else self._counted(q.rest())
        ranked = counted + tuple(m for m in ranked if m not in counted)
        topic = self._topic_words(q.rest())
        nearest: tuple[Measure, ...] = ()
        other = self._other_subjects(q) if ranked and not counted else None
        if other and other[1] and not self._found_by_words(other[0]):
            # Another subject found by the words too (盲人按摩归谁管 of a farm document).
            ranked, nearest = (), ranked[:MAX_NEAREST]
        if not ranked and not off_topic and not _BODY.search(q.text):
            ranked, nearest = self._recall(q.rest(), concepts=True)
            if not ranked:
                ranked, closer = self._recall(q.rest())
                nearest = nearest or closer
            if ranked and not self._besides_other_subjects(q):
                # "住房公积金提取政策谁负责": a thing the document never writes, sharing
                # characters with a measure about another: offered as the nearest only.
                ranked, nearest = (), ranked[:MAX_NEAREST]
        if ranked:
            # "补贴每月多少钱" where no measure gives an amount: not in the document; those that
            # state every detail asked answer. One ranked below the best answers only when it
            # holds the topic alone ("小微企业能贷多少款": the measure giving the loan's ceiling)
            # or offers the benefit asked; a question asking who is in charge keeps its answer.
            stating = tuple(m for m in ranked if self._states(q.text, m))
            if stating[:1] != ranked[:1] and not _BENEFIT_ASKED.search(q.text):
                content = self._terms(asked_details(q.rest()))[0]
                stating = tuple(
                    m
                    for m in stating
                    if self._coverage(content, [self._position[m.id]], []) >= MIN_COVERAGE
                )
            if not stating and _ASKS_WHO.search(q.text) and not _ACCIDENT.search(q.text):
                stating = ranked
            ranked, nearest = stating, () if stating else ranked[:MAX_NEAREST]
        if ranked and _PROCEDURE.search(q.text):
            # "创业补贴怎么领": only a measure that names that very benefit answers it.
            covering = self._covering(q.rest(), ranked)
            ranked, nearest = covering, () if covering else ranked[:MAX_NEAREST]
        if not ranked:
            return Answer(
                question,
                "none",
                suggestions=self.lexicon.examples,
                topic=topic,
                nearest=nearest,
            )
        return Answer(question, "topic", measures=ranked, topic=topic)

    def _states(self, question: str, measure: Measure) -> bool:
        """Tell whether the measure states every detail the question asks for (`states`)."""
        return states(question, stated(measure, self._yearly))

    def _covering(self, rest: str, ranked: tuple[Measure, ...]) -> tuple[Measure, ...]:
        """Return the measures naming the whole of what is asked for within one clause.

        A how-to question about a benefit ("创业补贴怎么领") is answered only by a measure
        that speaks of that benefit (创业 and 补贴 in one clause), not by one that holds the
        words apart (就业创业… / …就业补贴). Words in most measures (残疾人, 就业) are left out.
        """
        content, _ = self._terms(_PROCEDURE.sub(" ", rest))
        words = {t for t in content if self._idf.get(t, self._max_idf) >= JUNCTION_IDF}
        return tuple(
            m
            for m in ranked
            if any(all(w in clause for w in words) for clause in _CLAUSE.split(normalize(m.text)))
        )

    def _not_topic(self, text: str) -> bool:
        """Tell whether the question is about a thing the document does not cover."""
        found = [m.span() for m in self._not_topics_re.finditer(text)]
        if not found:
            return False
        # A description holding the thing whole says what is done with it (借残疾证: a sham
        # job, the document's 虚假安排), as one beside it does (借残疾证挂名).
        return not any(
            all(
                said.end <= start
                or said.start >= end
                or (said.start <= start < end <= said.end and (start, end) != said[:2])
                for start, end in found
            )
            for said in self._described(text)
        )

    def _besides_other_subjects(self, q: _Query) -> bool:
        """Tell whether what the character ranking found is asked about besides the things
        of the concept map the document never writes that the question names (最低工资标准,
        住房公积金, 学校食堂): the rest of the question, without them, still finds a measure.

        Such a thing shares characters with measures about others (最低 of 最低生活保障);
        named as a detail of a longer description (…配手语翻译) it leaves the rest to answer.
        """
        named = self._other_subjects(q)
        if named is None:
            return True
        left, strange = named
        if strange:
            return self._found_by_words(left)
        # The question's length was judged already: the rest may be a little shorter than a
        # description read alone (项目建设投资的目标: 投资目标活), not a word or two (提取政策).
        least = RECALL_DESCRIBED - 1
        found = self._recall(left, concepts=True, least=least)[0]
        return bool(found or self._recall(left, least=least)[0])

    def _other_subjects(self, q: _Query) -> tuple[str, bool] | None:
        """Return the rest of the question without the things of another subject it names
        (`_besides_other_subjects`), and whether one of them is strange; None: it names none.

        A term with characters the document never writes (残疾人 asked of a farm document) is
        strange: it names another subject, and the rest must find a measure by its words
        (…住房公积金照交，失业保险能返还吗). Not when the question describes two things of the
        document's besides, or the term qualifies a word of the document's right after it
        (项目建设投资: a kind of 投资).
        """
        named = other_subjects(q.text, self._writes)
        if not named:  # most questions: no need to read what they describe
            return None
        said = self._described(q.text)
        # A description of the document's things, or a word the lexicon maps to its words (a
        # synonym a coordinator taught), is the document's own.
        own = [(s.start, s.end) for s in said]
        own += [m.span() for m in self._synonym_re.finditer(q.text)]
        spans = [(a, b) for a, b in named if all(e <= a or s >= b for s, e in own)]
        if not spans:
            return None
        rest = list(q.rest())
        for start, end in spans:
            rest[start:end] = " " * (end - start)
        strange = (
            c
            for start, end in spans
            if q.text[end : end + 2] not in self._idf
            for c in q.text[start:end]
        )
        return "".join(rest), len(said) < 2 and any(
            is_cjk(c) and c not in self._char_idf for c in strange
        )

    def _found_by_words(self, text: str) -> bool:
        """Tell whether `text` finds a measure by its words, one of them neither common in
        any text (支持, 政策: bot/ask/usage.py) nor a benefit (补贴, 优惠) alone."""
        ranked = self._ranked(text, range(len(self._measures)))
        if not ranked:
            return False
        best, usual = self._position[ranked[0].id], common_words()
        words = [t for t in self._terms(text)[0] if t not in usual and not _BENEFIT.fullmatch(t)]
        return any(best in self._postings.get(t, {}) for t in words)

    def _writes(self, term: str) -> bool:
        """Tell whether the document writes `term` (its bigrams first: most terms are not)."""
        known = self._written_terms.get(term)
        if known is None:
            pairs = (term[i : i + 2] for i in range(len(term) - 1))
            known = all(p in self._idf for p in pairs) and term in self._written
            self._written_terms[term] = known
        return known

    def _outside(self, text: str) -> bool:
        """Tell whether a question asks what no such document holds: another place's rules,
        a phone number or an address, who heads a body."""
        text = self._aided_re.sub(lambda m: " " * len(m.group(0)), text)
        return bool(self._places_re.search(text) or self._detail(text))

    def _detail(self, text: str) -> bool:
        """Tell whether a question asks for a phone number, an address or who heads a body,
        unless the document gives it (a hotline's 电话 in a health document)."""
        detail = _DETAIL.search(text)
        return bool(detail and detail[0] not in self._written)

    def _recall(
        self,
        rest: str,
        within: set[int] | None = None,
        concepts: bool = False,
        least: int | None = None,
    ) -> tuple[tuple[Measure, ...], tuple[Measure, ...]]:
        """Rank measures by how much of the question's weight they hold: (answers, nearest).

        Everyday words rarely match a document's terms, but they share its characters (河流湖泊
        and 河长制湖长制, 村容村貌整治 and 农村人居环境整治): each character the document has
        counts by its rarity in the document, each shared bigram a little more. Confident above
        RECALL_CONFIDENT; above RECALL_NEAREST only offered as the nearest. With `concepts`, a
        thing described in everyday words (bot/ask/concepts.txt) weighs what its heaviest term
        would, times CONCEPT_WEIGHT, and a measure holds what its heaviest term held weighs;
        nothing when the question describes none.
        """
        text = self._stop_re.sub(lambda m: " " * len(m.group(0)), rest)
        # With concepts: each thing described, as its terms with the weight each would have.
        groups: list[list[tuple[str, float]]] = []
        said: set[str] = set()
        if concepts:
            found = self._described(rest)
            if not found:
                return (), ()
            said = {c for c in text if is_cjk(c) and c not in _FUNCTION_CHARS}
            idf = self._char_idf
            for m in found:
                text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
                terms = self._concepts[m.phrase]
                groups.append(
                    [(t, CONCEPT_WEIGHT * sum(idf.get(c, 0) for c in set(t))) for t in terms]
                )
        # Sorted, here and below: floating-point sums in a set's order (which changes with
        # each process's hash seed) differ in their last bits, and a score at a threshold
        # would answer differently from one run to the next.
        held = {c for c in text if c in self._char_idf}
        chars = sorted(held)
        # A character the document never writes counts against it, as a rare one would.
        unknown = {c for c in text if is_cjk(c) and c not in held and c not in _FUNCTION_CHARS}
        total = sum(self._char_idf[c] for c in chars) + RECALL_UNKNOWN * len(unknown)
        total += sum(max(w for _, w in group) for group in groups)
        if not total:
            return (), ()
        # Only a measure sharing a word with the question, not just characters, can answer it
        # (通行证 is no 通办): those are the candidates, each scored by the characters it holds.
        grams = sorted({g for run in runs(text) for g in bigrams(run) if len(g) == 2})
        words = [g for g in grams if self._idf.get(g, 0.0) >= JUNCTION_IDF]
        worded: dict[int, float] = defaultdict(float)
        weighted = [(g, 1.0) for g in words] + [
            (g, CONCEPT_WEIGHT)
            for group in groups
            for term, _ in group
            for g in bigrams(term)
            if self._idf.get(g, 0.0) >= JUNCTION_IDF
        ]
        for g, weight in weighted:
            for i in self._postings[g]:
                if within is None or i in within:
                    worded[i] += RECALL_BIGRAM * self._idf[g] * weight
        # The measures sharing the most words are scored by their characters (a bound on the
        # work in a large document).
        candidates = heapq.nlargest(RECALL_CANDIDATES, worded, key=lambda i: (worded[i], -i))
        weights = [(c, self._char_idf[c]) for c in chars]
        common = [
            (g, RECALL_BIGRAM * self._idf[g])
            for g in grams
            if 0 < self._idf.get(g, 0) < JUNCTION_IDF
        ]
        scores = {
            i: worded[i]
            + sum(w for c, w in weights if c in self._char_sets[i])
            + sum(w for g, w in common if i in self._postings[g])
            + sum(
                max((w for t, w in group if t in self._texts[i]), default=0.0) for group in groups
            )
            for i in candidates
        }
        ranked = sorted(scores, key=lambda i: (-scores[i], i))[:MAX_NEAREST]
        if not ranked:
            return (), ()
        best = scores[ranked[0]] / total
        # A few key words the document lacks ("残疾人就业" in a customs document) are not there:
        # only a description (a longer question) is read by its characters with confidence.
        # (Within a unit's measures fewer words are enough: the unit narrowed them already.)
        # A short one too when the best measure holds all of its weight (裁判吹黑哨 where the
        # measure writes 裁判员 and 黑名单): over the whole document, at the default length.
        whole = least is None and within is None
        if least is None:
            least = RECALL_DESCRIBED if within is None else RECALL_DESCRIBED - 2
        count = len(said if groups else held | unknown)
        described = count >= least or (
            whole
            and best >= RECALL_WHOLE
            and not groups
            and len(held) >= 3
            and count >= least - 2
        )
        # Concepts answer only through a measure holding one of the terms described.
        best_text = self._texts[ranked[0]]
        described &= not groups or any(t in best_text for g in groups for t, _ in g)
        if not groups and _BENEFIT.search(text):
            # A benefit for a thing (化肥涨价有没有补贴): the measure must share a word with
            # the question besides the benefit; its characters alone are another programme's.
            described &= any(
                ranked[0] in self._postings[g] and not _BENEFIT.fullmatch(g) for g in words
            )
        if best >= RECALL_CONFIDENT and described:
            keep = [i for i in ranked if scores[i] >= scores[ranked[0]] * RELATIVE_CUTOFF]
            return tuple(self._measures[i] for i in keep), ()
        if best >= RECALL_NEAREST:
            return (), tuple(self._measures[i] for i in ranked)
        return (), ()

    def _quoted(self, q: _Query) -> tuple[Measure, ...]:
        """Return the measure whose text holds a phrase quoted in the question (“以用定产”)."""
        for m in _QUOTED.finditer(q.text):
            found = [x for i, x in enumerate(self._measures) if m.group(1) in self._texts[i]]
            if len(found) == 1 and q.claim(m.start(), m.end()):
                return tuple(found)
        return ()

    def _counted(self, rest: str) -> tuple[Measure, ...]:
        """Return the one measure that writes a count the question names (90条措施: "那九十条
        政策"); not a date, which many items may share."""
        for m in _COUNT.finditer(rest):
            found = [x for i, x in enumerate(self._measures) if m.group(0) in self._texts[i]]
            if len(found) == 1:
                return tuple(found)
        return ()

    def _task_items(self, q: _Query) -> tuple[Measure, ...]:
        """Return the measures named by task and place (第7项任务第3条 is measure 7.3;
        任务十最后一条 the last of task 10)."""
        found = []
        for m in _WHOLE_PLACE.finditer(q.text):
            # "整个表倒数第二条": counted over the whole document; "第3条" of a document that
            # numbers its items is its own item 3 (see _numbered).
            at = place(m, len(self._measures))
            if at and not (m.group("k") and self._doc_measures) and q.claim(*m.span()):
                found.append(self._measures[at - 1])
        alone = PLACE.search(q.text)
        counted = alone is not None and not (alone.group("k") or alone.group("mid"))
        if not found and alone and counted and not alone.start():
            # "倒数第二条是啥" with no list before it: counted over the whole document.
            rest = q.text[alone.end() :]
            at = place(alone, len(self._measures))
            if at and _ONLY_ASKED.fullmatch(rest) and q.claim(*alone.span()):
                found.append(self._measures[at - 1])
        for m in q.take(_TASK_ITEM):
            if m.group("tb") or m.group("tl"):
                task = self.plan.task(self._task_from_end(m, "tb"))
            else:
                n = chinese_number(m.group("a") or m.group("b") or m.group("c"))
                task = self.plan.task(self._doc_tasks.get(n, n))
            at = place(m, len(task.measures)) if task is not None else 0
            if task is not None and at:
                found.append(task.measures[at - 1])
            elif task is not None and m.group("mid"):
                found += task.measures  # no middle one of an even number: all of them
        return tuple(dict.fromkeys(found))

    def _described_task(self, q: _Query) -> int:
        """Return the task a question describes as a whole ("帮农村残疾人就业那一大项都有啥"):
        the task of the measure its words match best; 0 when it names no task so."""
        whole = _WHOLE_TASK.search(q.text)
        if whole is None or any(q.used[whole.start() : whole.end()]):
            return 0
        rest = q.rest()
        # The words before it may be the task's title in another order (扶贫开发 for 开发式扶贫).
        named = _CLAUSE.split(self._stop_re.sub(" ", rest[: whole.start()]))[-1]
        said = {c for c in named if is_cjk(c)}
        titled = [
            t.number for t in self.plan.tasks if len(said) >= 3 and said <= set(normalize(t.title))
        ]
        if len(titled) == 1:
            q.claim(whole.start(), whole.end())
            return titled[0]
        rest = rest[: whole.start()] + " " * (whole.end() - whole.start()) + rest[whole.end() :]
        ranked = self._ranked(rest, range(len(self._measures))) or self._recall(rest)[0]
        if not ranked:
            return 0
        q.claim(whole.start(), whole.end())
        return ranked[0].task

    def _task_from_end(self, m: re.Match[str], back: str = "back") -> int:
        """Return the task counted from the end a match names (0: none); its group `back`
        holds the count, if any (none: the last)."""
        count = len(self.plan.tasks)
        number = count + 1 - chinese_number(m.group(back)) if m.group(back) else count
        return number if 1 <= number <= count else 0

    def _spoken(self, q: _Query) -> tuple[Measure, ...]:
        """Return the measures named as spoken (四点三, 4点3 and 四之三 are 4.3), if they exist."""
        found = []
        for m in _SPOKEN_ID.finditer(q.text):
            task, item = (m[1], m[2]) if m[1] else (m[3], m[4])
            measure = self.plan.measure(f"{chinese_number(task)}.{chinese_number(item)}")
            if measure is not None and q.claim(m.start(), m.end()):
                found.append(measure)
        return tuple(dict.fromkeys(found))

    def _titled(self, q: _Query) -> tuple[int, ...]:
        """Return the tasks named by title, when the title is what the question is about.

        A title quoted inside a longer text (measure 7.3 names three tasks) is a topic, not
        a request for those tasks.
        """
        found = [
            m for m in self._title_re.finditer(q.text) if not any(q.used[m.start() : m.end()])
        ]
        rest = list(q.rest())
        for m in found:
            rest[m.start() : m.end()] = " " * (m.end() - m.start())
        if not found or len(self._terms("".join(rest))[0]) > 1:
            return ()
        for m in found:
            q.used[m.start() : m.end()] = [True] * (m.end() - m.start())
        return tuple(dict.fromkeys(self._titles[m.group(0)] for m in found))

    def _task_answer(self, question: str, numbers: tuple[int, ...]) -> Answer:
        measures = tuple(m for n in numbers for m in self.plan.tasks[n - 1].measures)
        return Answer(question, "task", tasks=numbers, measures=measures)

    def _numbered(self, q: _Query) -> tuple[tuple[Measure, ...], tuple[int, ...]]:
        """Return the items, or else headings, named by the document's own numbers (第（十）条).

        A number is looked up as written first (in brackets or not), then either way.
        """
        items: list[Measure] = []
        headings: list[int] = []
        for m in _DOC_NUMBER.finditer(q.text):
            bracketed = m.group("bracketed") is not None
            number = doc_number(
                m.group("bracketed") or m.group("plain") or m.group("row") or m.group("bare")
            )
            as_written = (number, bracketed)
            # 条 and 款 are items, and so is a table's row (序号5); otherwise the number as
            # written decides (（三） or 三).
            kind = m.group("of") or m.group("kind") or m.group("item")
            if kind in ("条", "款") or m.group("row"):
                item = self._doc_measures.get(as_written) or self._doc_measures.get(
                    (number, not bracketed)
                )
                heading = None if item else self._doc_headings.get(as_written)
            else:
                item = self._doc_measures.get(as_written)
                heading = None if item else self._doc_headings.get(as_written)
                if item is None and heading is None:
                    item = self._doc_measures.get((number, not bracketed))
            if m.group("row") and not (item or heading) and self.plan.task(number):
                heading = number  # a table's rows numbered by task, as in this notice
            if (item or heading) and q.claim(m.start(), m.end()):
                if item is not None:
                    items.append(item)
                elif heading is not None:
                    headings.append(heading)
        return tuple(dict.fromkeys(items)), tuple(dict.fromkeys(headings))

    def _role(self, q: _Query) -> list[str]:
        """Return "lead" or "support" when the question asks who leads or supports, one for
        each role said ("组织部牵头、财政局配合的": lead, support).

        "unstated" when it asks but the document names no lead units (this notice).
        """
        found = q.take(_ROLE)
        if not found or any(m.lastindex is None for m in found):
            return []
        if not self._roles:
            return ["unstated"]
        return ["lead" if m.group(1) else "support" if m.group(2) else "guide" for m in found]

    def _unit_answer(
        self, question: str, q: _Query, units: list[str], corrections: list[tuple[str, str]]
    ) -> Answer:
        # An item the document gives to no unit by name ("省有关部门按职责分工负责") is no
        # named unit's own: it answers the catch-all asked for, not each unit.
        duties = list(dict.fromkeys(m for u in units for m in self.plan.duties_of(u) if m.units))
        joint = len(units) > 1 and bool(q.take(_JOINT))
        if joint:
            # "省委组织部和人社厅一起负责的": the measures they share.
            duties = [m for m in duties if all(self.plan.is_responsible(u, m) for u in units)]
        roles = self._role(q)
        if len(units) == 1 and len(set(roles)) > 1:
            # "财政部在孵化基地上是牵头还是配合", "牵头和配合的都算": no one role, its items.
            roles = []
        role = roles[0] if roles else "joint" if joint else ""
        word = _ROLE_WORD.get(role, "")
        in_role = [m for m in duties if any(_plays(m, u, word, self._first_leads) for u in units)]
        if len(units) == len(roles) == 2 and roles[0] != roles[1] and word:
            # "组织部牵头、财政局配合的": each unit in its own role, in the same items.
            pairs = [(u, _ROLE_WORD[r]) for u, r in zip(units, roles, strict=True)]
            role = "joint"  # each in its own role: the items they share, so marked
            duties = [
                m
                for m in self._measures
                if all(_plays(m, u, w, self._first_leads) for u, w in pairs)
            ]
        elif word:
            # "财政部牵头的有哪些": only what the unit leads (or supports, guides); none may be.
            duties = in_role
        shared = frozenset(
            m.id for m in duties if m.all_provincial and not any(u in m.units for u in units)
        )
        common = {"units": tuple(units), "corrections": tuple(corrections), "shared": shared}
        listed = [m for m in duties if m.id not in shared]
        for at in PLACE.finditer(q.rest()):
            # "人社厅负责的第三条", "教育厅的最后一条": a place in the unit's own list.
            number = place(at, len(listed))
            if number and q.claim(*at.span()):
                item = listed[number - 1]
                return Answer(
                    question,
                    "measure",
                    tasks=(item.task,),
                    measures=(item,),
                    **common,  # type: ignore[arg-type]
                )
        rest = q.rest()
        topic = self._not_topics_re.sub(lambda m: " " * len(m.group(0)), rest)
        said = self._topic_words(topic).split()
        if said and len("".join(said)) >= 4 and all(w in self._title for w in said):
            # "人民银行在消费扶贫里要干啥": the document's own subject is all of its duties.
            topic = rest = ""
        positions = [self._position[m.id] for m in duties]
        ranked = self._ranked(topic, positions)
        if not ranked and not _BODY.search(topic):
            # "人社厅在看不见的人做推拿这方面": the topic in everyday words, within the unit;
            # else through the terms it describes ("上班党员" for 在职党员), unless a thing
            # is asked yes or no ("税务局明年招不招人": see _YES_NO).
            within = set(positions)
            ranked = self._recall(topic, within)[0]
            if not ranked and not _YES_NO.search(topic):
                ranked = self._recall(topic, within, concepts=True)[0]
        missed = self._topic_words(rest)
        if ranked:
            return Answer(
                question,
                "unit_topic",
                measures=ranked,
                topic=missed,
                role=role,
                **common,  # type: ignore[arg-type]
            )
        # Own measures first, in document order; then the duties shared by every unit.
        ordered = tuple(sorted(duties, key=lambda m: m.id in shared))
        if word and not ordered:
            missed = ""  # "财政部牵头的有哪些" where it leads nothing: said, not a topic
        return Answer(
            question,
            "unit",
            measures=ordered,
            missed_topic=missed,
            topic=missed,
            role=role,
            **common,  # type: ignore[arg-type]
        )

    def _edges(self, text: str) -> set[int]:
        """Return the positions where a short name may start or end as a word of its own.

        The text's ends, punctuation, and the edges of scaffolding words; not digits or
        Latin letters (300人次 is a count) and not the inside of a Chinese word.
        """
        edges = {0, len(text)}
        for m in self._stop_re.finditer(text):
            edges |= {m.start(), m.end()}
        # A scaffolding word typed with a same-sounding character (负则 for 负责) is one too.
        for i in self._slips(text):
            edges |= {i, i + 2}
        breaks = [i for i, c in enumerate(text) if not (is_cjk(c) or c.isalnum())]
        # A name ends where a demonstrative starts ("民政这回…", "残联那次…").
        edges |= {i for i, c in enumerate(text) if c in "这那"}
        # A name ends where a word pointing at it starts (税务这边).
        fillers = {m.start() for m in _FILLER.finditer(text)}
        return edges | set(breaks) | {i + 1 for i in breaks} | fillers

    def _find_units(self, q: _Query) -> tuple[list[str], list[tuple[str, str]], tuple[str, ...]]:
        """Return the units named, typos read as names, and other places' units named."""
        # Bodies such as 国家发展改革委 contain a unit's short name but are not units.
        masked = self._not_units_re.sub(lambda m: " " * len(m.group(0)), q.text)
        edges = self._edges(q.text)
        units: list[str] = []
        elsewhere = []
        negated: list[str] = []  # named only as not meant, beside the one meant
        last = 0  # where the last unit's name ended
        who = _ASKS_WHO.search(q.text) is not None
        for m in self._aliases.finditer(masked):
            if m.group(0)[0] in "省市区县" and self._inside_word(q.text, m.start(), edges):
                # 街市规划: the 市 ends the word before; the name is read without it.
                m = self._aliases.match(masked, m.start() + 1) or m
                if m.start() == m.end() or m.group(0)[0] in "省市区县":
                    continue
            start, end = m.span()
            if any(q.used[start:end]):
                continue
            # Asking who, a word of the document is its topic (规划建设找哪个部门), and so
            # is a body one goes to ("去法院…这条是谁负责").
            gone_to = start > 0 and q.text[start - 1] in "去到进回"
            # After a unit, a word of the document said as a matter (那块, 方面, 工作; 在…) is
            # a matter within it ("财政部 扶贫那块": 扶贫 is no 扶贫办 there), unless joined to
            # it or both are asked about together ("人社厅 民政 共同负责哪些", "各管哪些").
            between = q.text[last:start]
            within = (
                bool(units)
                and bool(_MATTER.match(q.text, end) or between.strip() in ("在", "的", "关于"))
                and not any(c in _JOINERS or c == "同" for c in between)
                and not _JOINT.search(q.text)
                and not re.search(r"各|分别", q.text[end:])
            )
            if (
                (who or within)
                and m.group(0) in self._words
                and (m.group(0)[-1] not in _BODY_ENDS or gone_to)
            ):
                continue
            place = self._elsewhere_re.search(q.text, max(start - self._elsewhere_reach, 0), start)
            if place:
                q.used[place.start() : end] = [True] * (end - place.start())
                elsewhere.append(q.text[place.start() : end])
                continue
            # A two-character name (人社, 残联) must stand alone: 残疾人社区 is no 人社.
            if end - start <= 2 and not self._alone(q.text, start, end, edges):
                continue
            filler = _FILLER.match(q.text, end)
            end = filler.end() if filler else end  # 民政口子: the filler is no topic
            home = self._own_place_re.search(q.text, max(start - self._elsewhere_reach, 0), start)
            if home and not any(q.used[home.start() : start]):
                start = home.start()
            q.used[start:end] = [True] * (end - start)
            unit = self._alias_unit[m.group(0)]
            if _NEGATED.search(q.text, max(m.start() - 6, 0), m.start()):
                negated.append(unit)
                continue
            if units and _OFFICE.search(unit) and q.text[last:start] in ("", "的"):
                units.pop()  # 卫健委医政处: the office (处室) of the body named before it
            units.append(unit)
            last = end
        for m in _COORDINATED.finditer(masked) if units else ():
            # "税务和烟草各管哪些": beside a unit named, the start of another's name is it.
            owners = {u for core, u in self._cores if core.startswith(m.group(1))}
            if len(owners) == 1 and not any(q.used[m.start(1) : m.end(1)]):
                q.used[m.start(1) : m.end(1)] = [True] * len(m.group(1))
                units.append(owners.pop())
        if negated and not units and not _ASKS_WHO.search(q.text):
            # "不是人社厅的事吗" with no other unit named: it is the one asked; "不归我们教育厅
            # 管吧？那归哪些单位" asks who else.
            units = negated
        corrections: list[tuple[str, str]] = []
        if not units:
            for typed, unit in self._typos(q, masked, edges):
                units.append(unit)
                corrections.append((typed, unit))
        return list(dict.fromkeys(units)), corrections, tuple(dict.fromkeys(elsewhere))

    @staticmethod
    def _inside_word(text: str, start: int, edges: set[int]) -> bool:
        """Tell whether text[start] ends the word before it (街市, 城市): not a name's level."""
        before = text[start - 1] if start else ""
        inside = is_cjk(before) and before not in _FUNCTION_CHARS
        return bool(before) and inside and start not in edges

    def _alone(self, text: str, start: int, end: int, edges: set[int]) -> bool:
        """Tell whether a two-character name at text[start:end] stands as a word of its own.

        At scaffolding or punctuation on both sides; or, for a body's name (残联) or one
        joined to another's (和人社), at one such edge or after 和/与/及/跟, where the other
        side starts no word the document writes ("残联这次…", "和人社一起").
        """
        if start in edges and end in edges:
            return True
        after_and = start > 0 and text[start - 1] in "和与及跟同、"
        if text[end - 1] not in _BODY_ENDS and not after_and:
            return False  # 医保, 规划: a topic as often as a unit
        starts = start in edges or after_and or text[start - 1 : start + 1] not in self._vocabulary
        ends = end in edges or text[end - 1 : end + 1] not in self._vocabulary
        return starts and ends and (start in edges or after_and or end in edges)

    def _typos(self, q: _Query, text: str, edges: set[int]) -> list[tuple[str, str]]:
        """Find names typed with one wrong, missing or extra character (人设厅 -> 人社厅).

        A typo stands alone (see `_edges`), is no word of the document, and keeps the name's
        first character; a two-character one must be all the question says besides
        scaffolding, as in "残连有哪些任务".
        """
        found: list[tuple[str, str]] = []
        starts = sorted(edges)
        # What the question says besides scaffolding, read once (not once per window): the
        # end of the first thing it says and the start of the last.
        said = [(s, e) for _, s, e in self._located_terms(text)[0]]
        first_end = min((e for _, e in said), default=len(text) + 1)
        last_start = max((s for s, _ in said), default=-1)
        for n in reversed(self._typo_lengths):
            for start in starts:
                if start + n not in edges or start + n > len(text):
                    continue
                window = text[start : start + n]
                names = self._typo_names.get(window[0])
                if not names or any(q.used[start : start + n]) or not is_cjk(window):
                    continue
                if window in self._vocabulary or window in self._alias_unit:
                    continue
                # 宣传的 is 宣传 and a particle, no typo of 宣传部.
                if window[-1] in _PARTICLES:
                    continue
                # Something said wholly before or after the window: the question is not just it.
                if n == 2 and (first_end <= start or last_start >= start + n):
                    continue
                # Nor half of a word the document writes: 一个人交 is no 人社 mistyped.
                if n == 2 and {text[start - 1 : start + 1], text[start + 1 : start + 3]} & (
                    self._vocabulary if start else set()
                ):
                    continue
                # Loaded only when a question may hold a typo (a tenth of the start-up).
                from rapidfuzz import process
                from rapidfuzz.distance import Levenshtein

                near = process.extract(
                    window, names, scorer=Levenshtein.distance, score_cutoff=1, limit=None
                )
                units = {self._alias_unit[name] for name, _, _ in near}
                if len(units) == 1:
                    q.used[start : start + n] = [True] * n
                    found.append((window, units.pop()))
        return found

    # -- topic ranking -------------------------------------------------------------------

    def _terms(self, rest: str, concepts: bool = False) -> tuple[list[str], list[str]]:
        """Split the unexplained text into topic tokens: (content, bonus).

        Content tokens say what the question is about; a content token the document lacks
        counts against the match. Bonus tokens touch scaffolding words or words replaced by
        synonyms (or, with `concepts`, everyday descriptions of the document's terms): they
        help when the document has them and never count against it.
        """
        content, bonus = self._located_terms(rest, concepts)
        return [tok for tok, _, _ in content], bonus

    def _located_terms(
        self, rest: str, concepts: bool = False
    ) -> tuple[list[tuple[str, int, int]], list[str]]:
        """Return `_terms`, each content token with the span of `rest` it was read from."""
        soft = [c == " " for c in rest]
        if concepts:
            for said in self._described(rest):
                soft[said.start : said.end] = [True] * (said.end - said.start)
        extra: list[tuple[str, int, int]] = []
        for m in self._synonym_re.finditer(rest):
            extra += [(w, m.start(), m.end()) for w in self._synonyms[m.group(0)]]
            soft[m.start() : m.end()] = [True] * (m.end() - m.start())
        for m in self._stop_re.finditer(rest):
            if not all(soft[m.start() : m.end()]):
                soft[m.start() : m.end()] = [True] * (m.end() - m.start())
        extra += self._split_words(rest, soft)
        content: list[tuple[str, int, int]] = []
        bonus: list[str] = []
        for offset, piece in located_runs(rest):
            if len(piece) == 1:
                # A lone character: only counts when found.
                if not soft[offset]:
                    bonus.append(piece)
                continue
            if not is_cjk(piece):
                content.append((piece, offset, offset + len(piece)))
                continue
            raw = bigrams(piece)
            scaffold = [soft[offset + i] or soft[offset + i + 1] for i in range(len(raw))]
            # Only a word of the topic may be a slip: not scaffolding (我在 is no 握在),
            # not the seam of two words (就业政策 has no 业整).
            grams = [
                tok if scaffold[i] or self._junction(raw, i) else self._heard(tok)
                for i, tok in enumerate(raw)
            ]
            for i, tok in enumerate(grams):
                # A slip of scaffolding (负则 for 负责) is still scaffolding.
                if scaffold[i] or tok in self._stop_words or self._junction(grams, i):
                    bonus.append(tok)
                else:
                    content.append((tok, offset + i, offset + i + 2))
        for phrase, start, end in extra:
            content += [(t, start, end) for run in runs(phrase) for t in bigrams(run)]
        return content, bonus

    def _split_words(self, rest: str, soft: list[bool]) -> list[tuple[str, int, int]]:
        """Return the document's words said with a quantity inside (贷多少款 is 贷款, 开个店
        开店), each with its span, marking the quantity soft."""
        found = []
        for i, c in enumerate(rest[:-2]):
            if rest[i + 1] not in _QUANTITY_STARTS:
                continue
            if not is_cjk(c) or c in _FUNCTION_CHARS or rest[i : i + 2] in self._idf:
                continue
            between = _QUANTITY.match(rest, i + 1, i + 7)
            if between is None:
                continue
            word = c + rest[between.end() : between.end() + 1]
            if self._idf.get(word, 0.0) >= MIN_IDF:
                found.append((word, i, between.end() + 1))
                soft[i + 1 : between.end()] = [True] * (between.end() - i - 1)
        return found

    def _held_words(self, text: str) -> list[str]:
        """Return the rare words of the document that hold a one-character scaffolding word
        (节能 holds 能), the other character being no scaffolding of its own."""
        spans = [m.span() for m in self._stop_re.finditer(text)]
        covered = {i for start, end in spans for i in range(start, end)}
        words = []
        for start, end in spans:
            # A particle holds no word ("要做的事": 的事 is only a seam in 以上的事业单位).
            if end - start != 1 or text[start] in _PARTICLES:
                continue
            for other, pair in ((start - 1, text[start - 1 : end]), (end, text[start : end + 1])):
                if other < 0 or other in covered or len(pair) != 2 or not is_cjk(pair):
                    continue
                if self._idf.get(pair, 0.0) >= JUNCTION_IDF:
                    words.append(pair)
        return words

    def _described(self, text: str) -> tuple[_Said, ...]:
        """Return the everyday descriptions of the document's terms in `text` (concepts.txt).

        Descriptions may overlap ("国外的技术大牛": 国外的技术 and 技术大牛); one wholly
        inside another found before is left out. A phrase of four characters or more may have
        up to CONCEPT_GAP characters between two of its parts (外地来的党员 for 外地党员).
        """
        known = self._said.get(text)
        if known is not None:
            return known
        found: list[_Said] = []
        end = 0
        starts = self._concept_starts
        for i in (i for i, c in enumerate(text) if c in starts):
            m = self._concept_re.match(text, i)
            said = (
                _Said(i, m.end(), m.group(0))
                if m is not None
                else self._parted(text, i) or self._misheard(text, i)
            )
            if said is not None and said.end > end:
                found.append(said)
                end = said.end
        if len(self._said) >= 64:  # a bound: the last few questions' texts are enough
            self._said.clear()
        self._said[text] = said_here = tuple(found)
        return said_here

    def _parted(self, text: str, i: int) -> _Said | None:
        """Return the phrase starting at `i` with a few characters between its parts."""
        pairs = self._pairs.get(text[i])
        if pairs and text[i + 1 : i + 2] in _QUANTITY_STARTS:
            between = _QUANTITY.match(text, i + 1, i + 7)
            end = between.end() if between else 0
            for phrase in pairs:
                if end and text.startswith(phrase[1], end):
                    return _Said(i, end + 1, phrase)
        if text[i : i + 2] not in self._part_starts:
            return None
        for n in self._part_lengths:
            for tail, phrase in self._concept_parts.get(text[i : i + n], ()):
                for gap in range(1, CONCEPT_GAP + 1):
                    middle = text[i + n : i + n + gap]
                    if is_cjk(middle) and text.startswith(tail, i + n + gap):
                        return _Said(i, i + n + gap + len(tail), phrase)
                # Another thing joined to the head shares its tail (空气和河水变好 says
                # 空气变好): 和 and a word of up to three characters between. Only the head is
                # taken, the rest may say another thing (河水变干净).
                if text[i + n : i + n + 1] in _JOINERS:
                    for k in range(2, 5):
                        end = i + n + k
                        if is_cjk(text[i + n + 1 : end]) and text.startswith(tail, end):
                            return _Said(i, i + n, phrase)
        return None

    def _misheard(self, text: str, i: int) -> _Said | None:
        """Return the phrase starting at `i` typed with one character of the same sound."""
        by_sound, lengths = self._sounded
        for n in lengths.get(text[i], ()):
            window = text[i : i + n]
            # Two characters the document writes are its word, no slip.
            if len(window) < n or not is_cjk(window) or (n == 2 and window in self._idf):
                continue
            phrase = by_sound.get(window[0] + sound(window[1:]))
            if phrase and sum(a != b for a, b in zip(window, phrase, strict=True)) == 1:
                return _Said(i, i + n, phrase)
        return None

    def _heard(self, tok: str) -> str:
        """Return the document's word a bigram it lacks was typed for by sound, or the bigram.

        Pinyin keyboards offer every character of a sound: 按磨 is 按摩 mistyped. Only a
        single same-sounding word of the document that keeps one of the two characters counts.
        """
        if tok in self._idf:
            return tok
        near = [w for w in self._sounds.get(sound(tok), ()) if w[0] == tok[0] or w[1] == tok[1]]
        return near[0] if len(near) == 1 else tok

    def _junction(self, grams: list[str], i: int) -> bool:
        """Tell whether an unknown bigram only joins two words (人以 in 50人以上).

        Bigrams span word boundaries; one the document lacks, next to a meaningful bigram it
        has, is taken for such a seam rather than for an unknown word.
        """
        if grams[i] in self._idf:
            return False
        neighbours = grams[max(i - 1, 0) : i] + grams[i + 1 : i + 2]
        return any(self._idf.get(g, 0.0) >= JUNCTION_IDF for g in neighbours)

    def _topic_words(self, rest: str) -> str:
        """Return what the person asked about, without scaffolding words, as they typed it."""
        text = list(self._stop_re.sub(" ", rest))
        for i in self._slips("".join(text)):
            text[i : i + 2] = "  "
        # A lone character left between scaffolding (在本方案中的) is no topic either.
        return " ".join(r for r in runs("".join(text)) if len(r) > 1 or not is_cjk(r))

    def _slips(self, text: str) -> list[int]:
        """Return where a scaffolding word was typed with a same-sounding character (负则)."""
        return [
            i
            for i in range(len(text) - 1)
            if is_cjk(pair := text[i : i + 2])
            and pair not in self._stop_words
            and sound(pair) in self._stop_sounds
        ]

    def _ranked(self, rest: str, candidates: range | list[int]) -> tuple[Measure, ...]:
        """Rank `candidates` by the words typed with the terms of everyday descriptions added
        (weighted below them); by the words alone when that finds nothing.

        The words alone can answer where the terms cannot: a description's term no measure
        holds weighs against the match, and the words of the description may be scaffolding
        (兜底给个岗位 where 找工作 stands for 就业服务).
        """
        if self._described(rest):
            ranked = self._rank(rest, candidates, concepts=True)
            if ranked:
                return ranked
        return self._rank(rest, candidates)

    def _rank(
        self, rest: str, candidates: range | list[int], concepts: bool = False
    ) -> tuple[Measure, ...]:
        """Rank `candidates` by the topic in `rest`; empty when the topic is not there.

        With `concepts`, the document's terms that the question describes in everyday words
        (bot/ask/concepts.txt) count too, less than words typed; empty when it describes none.
        """
        found = [m.phrase for m in self._described(rest)] if concepts else []
        if concepts and not found:
            return ()
        described = [self._concepts[phrase] for phrase in found]
        content, bonus = self._terms(rest, concepts)
        if not content and not described:
            # Nothing but scaffolding, unless a one-character scaffolding word is part of a
            # rare word of the document: "节能那块" (能), "技能" (能).
            content = self._held_words(rest)
        if not content and not described:
            return ()
        allowed = candidates if isinstance(candidates, range) else set(candidates)
        # The user's own word is kept beside its synonyms (大学生 and 高校毕业生 both count).
        typed = [m.group(0) for m in self._synonym_re.finditer(rest)] + found
        kept = [g for word in typed for g in bigrams(word) if g in self._idf]
        weights = {t: BONUS_WEIGHT for t in bonus if t in self._idf}
        weights |= {g: CONCEPT_WEIGHT for terms in described for t in terms for g in bigrams(t)}
        weights |= dict.fromkeys(content, 1.0)
        weights |= dict.fromkeys(kept, 1.0)
        terms = [
            (tok, self._postings[tok], idf, weight >= CONCEPT_WEIGHT)
            for tok, weight in weights.items()
            if (idf := self._idf.get(tok, 0.0) * weight) >= MIN_IDF
        ]
        # A measure holding every word of the topic is listed however long it is (招聘 in a
        # long measure among short ones that repeat it).
        words = sorted((self._postings[t] for t in set(content) if t in self._idf), key=len)
        whole = set(words[0]).intersection(*words[1:]) if words else set()
        top = self._top(terms, allowed, whole)
        if top is None:
            return ()
        ranked, scores = top
        best = scores[ranked[0]]
        if best < MIN_SCORE or self._coverage(content, ranked[:3], described) < MIN_COVERAGE:
            return ()
        return tuple(self._measures[i] for i in ranked)

    def _top(
        self,
        terms: list[tuple[str, dict[int, int], float, bool]],
        allowed: range | set[int],
        whole: set[int],
    ) -> tuple[list[int], dict[int, float]] | None:
        """Return the measures to list, best first, and their scores; None when the topic
        itself matches no measure (no measure's on-topic words weigh MIN_TOPICAL).

        Each of `terms` (a word, its postings, its weighted idf, whether it is on topic) adds
        its BM25 share to every measure of `allowed` holding it. On a large plan most of the
        measures holding a word hold only common ones, and cannot come within RELATIVE_CUTOFF
        of the best (MaxScore): the words are taken heaviest first, each with a bound on what
        it can add to any measure, and once what the words left could add to a measure not
        yet met is below the cutoff of the best met so far, the rest are not walked. The
        measures that can still be listed (or hold every word of the topic, `whole`) are then
        scored by every word in `terms`' order: the same sums, to the last bit, as scoring
        every measure, so the same ranking and the same ties.
        """
        every = allowed == range(len(self._measures))
        norm, saturation = self._norm, BM25_K1 + 1
        scores: dict[int, float] = {}  # exact scores, as scoring every measure gives them
        topical_at: dict[int, float] = {}  # and their on-topic part

        def exact(i: int) -> float:
            if i not in scores:
                score = topical = 0.0
                for _, docs, idf, on_topic in terms:
                    tf = docs.get(i)
                    if tf is not None:
                        share = idf * tf * saturation / (tf + norm[i])
                        score += share
                        if on_topic:
                            topical += share
                scores[i], topical_at[i] = score, topical
            return scores[i]

        # What each word can add to a measure at most: its weighted idf times its tf part
        # at its largest; and what the words after the j-th heaviest can add together.
        peak = self._peak
        low, high = 1 - _SLACK, 1 + _SLACK
        bounds = [idf * saturation * peak.get(tok, 1.0) * high for tok, _, idf, _ in terms]
        order = sorted(range(len(terms)), key=lambda k: (-bounds[k], k))
        rest, rest_topic = [0.0] * (len(order) + 1), [0.0] * (len(order) + 1)
        for j in reversed(range(len(order))):
            k = order[j]
            rest[j] = rest[j + 1] + bounds[k]
            rest_topic[j] = rest_topic[j + 1] + (bounds[k] if terms[k][3] else 0.0)
        # The words' shares walked so far, by measure; the measure ahead is scored exactly
        # after each word: the best exact score met (`best`) bounds the cutoff from below.
        partial: dict[int, float] = {}
        partial_topic: dict[int, float] = {}
        ahead = ahead_topic = -1
        best = most_topic = 0.0
        on_topic_found = False
        walked = len(order)
        for j, k in enumerate(order):
            if (
                partial
                and rest[j] < best * RELATIVE_CUTOFF * low
                and (on_topic_found or most_topic + rest_topic[j] < MIN_TOPICAL * low)
            ):
                walked = j
                break
            _, docs, idf, on_topic = terms[k]
            held = docs.items() if every else ((i, tf) for i, tf in docs.items() if i in allowed)
            top = partial.get(ahead, 0.0)
            for i, tf in held:
                share = idf * tf * saturation / (tf + norm[i])
                score = partial[i] = partial.get(i, 0.0) + share
                if score > top:
                    top, ahead = score, i
                if on_topic:
                    score = partial_topic[i] = partial_topic.get(i, 0.0) + share
                    if score > most_topic:
                        most_topic, ahead_topic = score, i
            for i in (ahead, ahead_topic):
                if i >= 0:
                    best = max(best, exact(i))
                    on_topic_found |= topical_at[i] >= MIN_TOPICAL
        left, left_topic = rest[walked], rest_topic[walked]
        # Words around the topic (分工, 我们) only break ties: the topic itself must match. Not
        # found among the measures ahead: decided by the exact sums of those the bounds leave.
        if not on_topic_found:
            near = [i for i, t in partial_topic.items() if t + left_topic >= MIN_TOPICAL * low]
            for i in near:
                exact(i)
            if not any(topical_at[i] >= MIN_TOPICAL for i in near):
                return None
        # Each measure that can still be listed, by what it can score at most; those holding
        # every word of the topic too, whatever they score.
        least = best * RELATIVE_CUTOFF * low - left
        bound = [(-(s + left) * high, i) for i, s in partial.items() if s >= least]
        for i in whole:
            if i in partial:
                if partial[i] < least:
                    bound.append((-(partial[i] + left) * high, i))
            elif (every or i in allowed) and any(i in docs for _, docs, _, _ in terms):
                bound.append((-left * high, i))
        heapq.heapify(bound)
        # Scored exactly, the most promising first: until none left can score the best (then
        # the cutoff is known), and then until none left can be among the MAX_TOPIC listed.
        settled = False
        cut = 0.0
        kept: list[tuple[float, int]] = []  # (score, -i): a heap, the last listed on top

        def keep(i: int, score: float) -> None:
            if score >= cut or i in whole:
                if len(kept) < MAX_TOPIC:
                    heapq.heappush(kept, (score, -i))
                else:
                    heapq.heappushpop(kept, (score, -i))

        met: list[int] = []
        while bound:
            most, i = heapq.heappop(bound)
            most = -most
            if not settled and most < best:
                settled, cut = True, best * RELATIVE_CUTOFF
                for j in met:
                    keep(j, scores[j])
            if settled and len(kept) == MAX_TOPIC and most < kept[0][0]:
                break
            score = exact(i)
            met.append(i)
            if settled:
                keep(i, score)
            else:
                best = max(best, score)
        if not settled:
            cut = best * RELATIVE_CUTOFF
            for j in met:
                keep(j, scores[j])
        return [-i for _, i in sorted(kept, key=lambda e: (-e[0], -e[1]))], scores

    def _coverage(
        self, content: list[str], top: list[int], described: list[tuple[str, ...]]
    ) -> float:
        """Share of the question's topic weight that the top measures cover together.

        A bigram the document lacks still counts as covered when its two characters occur
        close together, in order, in one top measure (报刊亭 against 报刊零售亭). A thing
        described in everyday words weighs what its heaviest term would, typed; it is covered
        by the heaviest of its terms a top measure holds.
        """
        total = covered = 0.0
        for tok in sorted(set(content)):
            weight = self._idf.get(tok, self._max_idf)
            total += weight
            docs = self._postings.get(tok, {})
            if any(i in docs for i in top) or (
                tok not in self._idf and any(_near(tok, self._texts[i]) for i in top)
            ):
                covered += weight
        for terms in described:
            weights = {t: sum(self._idf[g] for g in bigrams(t)) for t in terms}
            total += max(weights.values())
            held = [w for t, w in weights.items() if any(t in self._texts[i] for i in top)]
            covered += max(held, default=0.0)
        return covered / total if total else 0.0


def _plays(measure: Measure, unit: str, role: str, first_leads: bool = True) -> bool:
    """Tell whether `unit` has `role` (牵头, 配合, 指导) in `measure`.

    Where an item states no roles, the unit listed first leads it and the others support
    (the usual order of such a list, "列第一位者为牵头单位"): "（科技部、财政部负责）" is led by
    科技部, and a unit alone leads its item. Not where the document states that rule from some
    item on (`first_leads` False): the items before it name no lead.
    """
    if measure.role_of(unit) == role:
        return True
    if measure.lead or measure.guide or unit not in measure.units:
        return False
    if not first_leads:
        return role == "牵头" and measure.units == (unit,)
    first = measure.units[0] == unit
    return first if role == "牵头" else role == "配合" and not first


def _near(pair: str, text: str, gap: int = 3) -> bool:
    """Tell whether pair[1] follows pair[0] within `gap` characters somewhere in `text`."""
    first, second = pair[0], pair[1]
    start = text.find(first)
    while start != -1:
        if second in text[start + 1 : start + 1 + gap]:
            return True
        start = text.find(first, start + 1)
    return False


# The level's 级 before a government, as people drop it: 省级政府 is 省政府 (not 县级市政府).
_LEVEL = lazy(r"(?<=[省市县区])级(?=(?:人民)?政府)")


def _catch_all_aliases(term: str) -> set[str]:
    """Return a catch-all as people say it: 各省级人民政府, 省级人民政府, 省级政府, 省政府."""
    forms = {term, term.removeprefix("各")}
    forms |= {f.replace("人民政府", "政府") for f in forms}
    forms |= {_LEVEL.sub("", f) for f in forms}
    return {f for f in forms if len(f) >= 3}


@lru_cache(maxsize=1)
def _sources() -> tuple[bytes, ...]:
    # The code spoken short names are derived by (spoken_aliases, _name_variants, normalize).
    modules = (spoken_aliases.__module__, normalize.__module__, __name__)
    return tuple(Path(sys.modules[m].__file__ or "").read_bytes() for m in modules)


def _name_variants(name: str) -> set[str]:
    """Return a unit name as people write it: with or without 省, and as "…部门".

    教育厅 is also 省教育厅, 四川省教育厅 and 教育部门; 省卫生健康委 also 卫生健康部门.
    """
    variants = {name}
    for prefix in ("四川省", "省"):
        if name.startswith(prefix) and len(name) - len(prefix) >= 2:
            variants.add(name[len(prefix) :])
    if not name.startswith(("省", "四川", "中共", "国家", "中国")):
        variants |= {"省" + name, "四川省" + name}
    for short in list(variants):
        core = short.removeprefix("四川省").removeprefix("省")
        if core.endswith(("厅", "局", "委")) and len(core) >= 3:
            variants.add(core[:-1] + "部门")
    return variants


def _local_variants(name: str) -> set[str]:
    """Return a province's department (教育厅) as a city's or county's bureau (县教育局): the
    one a local liaison names for it."""
    core = name.removeprefix("四川省").removeprefix("省")
    if not core.endswith("厅") or len(core) < 3:
        return set()
    return {level + core[:-1] + "局" for level in ("", "市", "县", "区", "州")}


def _title_cores(title: str) -> set[str]:
    """Return a task title and its core without 实施…行动, as people quote it."""
    core = re.sub(r"^实施|行动$", "", title)
    return {title, core} if len(core) >= 4 else {title}
