"""Synthetic shop exports for `cskpi sample` and the benchmark: messages, ratings, orders, complaints, reviews, targets,
and the after-sales and audit kinds of Table A.2: refunds, disputes, feedback, bot_answers.

`generate(out, messages, ...)` simulates several shops on Taobao/Tmall, JD, Pinduoduo and Douyin for `days` days
from 2026-11-01 and writes their exports into `out/`, one kind per file, the kind as the file name's first word.

The simulation is vectorised (polars expressions, no per-message Python) and runs shop chunk by shop chunk, so ten
million messages fit in a few minutes and well under 4 GiB. Every random number comes from a SHAKE-256 stream named
by (seed, chunk, table, column): the same arguments write the same bytes.

How a conversation looks (times in whole seconds, strictly increasing within a shop-customer conversation):
- an inquiry session: the customer opens (1-3 messages), sometimes a bot auto-reply 1-3 s later, a human agent answers
  (mostly 3-40 s; a tail of 1-20 min; a few first replies 1-8 h late), then more customer/agent turns with gaps
  under 30 min, the agent closing; some sessions stay unanswered; some are transferred to a second agent (with a
  system message); some end with a system message;
- a payment reminder (催付) session opened by an agent about an unpaid order, sometimes answered by the customer;
- sessions of one customer are at least 31 min apart, and a reminder never follows an unanswered session within
  24 h, so cutting sessions by SPEC §2.2 (30-min gap, late-reply window) gives back exactly the simulated sessions.
Orders come from inquiry sessions (paid the same or next day, some later, some never), from reminders and from
customers who buy without asking; ratings, complaints and reviews follow sessions and paid orders; targets are sized
from the simulated sales so that achievement lands around 80-110%.
Table A.2 (README "Table A.2, the 24-hour complaint rule"):
- complaints: most service-quality complaints get their solution within 24 h, some exactly at 24 h, some late, some
  never; a minority agree a later contact time (`agreed_at`, 48 h after the complaint) and keep it;
- refunds: a few percent of paid orders (more in poorly run shops), asked for minutes to days after payment (seven-day
  returns, quality, usage, other), most completed 1-72 h later (refunded, refused or withdrawn), some taking days, a
  few stuck; an export shows a refund open until it completes, and a later export shows it completed;
- disputes: most refused refunds, a few other refunds and some late or unanswered service complaints escalate, some
  with the platform involved, most closed within days;
- feedback: a few customer suggestions per shop per day (物流/包装/商品/服务/其他), handled the same day, except that
  poorly run shops leave a few unhandled (so the 100% rule fails there);
- bot_answers: an audit of about five bot replies per shop per day (shops without a bot have none), intent right
  ~93% and answer right ~90% of the time, worse in poorly run shops, linked to the session, customer and question.

`showcase=True` (the default up to 200,000 messages; the checked-in `sample_data/`) writes each shop group in a
different export dialect: canonical or Chinese headers and labels, GB18030, a BOM, CRLF, gzip, XLSX, several time
forms, two overlapping "nightly" files (messages, orders, refunds), and a few broken rows (listed by
`SHOWCASE_BREAKS`). Otherwise every kind is plain UTF-8 CSV with canonical headers and English labels, messages split
by week.
"""
from __future__ import annotations

import calendar
import gzip
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa

START = datetime(2026, 11, 1)  # day 1; the default 27 days end on 2026-11-27
DEFAULT_DAYS = 27
DAY = 86_400
EPOCH = calendar.timegm(START.timetuple())  # local wall time as naive epoch seconds
CHUNK_MESSAGES = 500_000  # messages simulated at a time (memory and speed are best around here)

PLATFORMS = ("tmall", "taobao", "jd", "pdd", "douyin")
CUSTOMER_PREFIX = {"tmall": "tb", "taobao": "tb", "jd": "jd_", "pdd": "pdd_", "douyin": "dy_"}
AGENT_NAMES = ("小美", "小雅", "阿杰", "小鱼", "晓晓", "静静", "小甜", "木子", "安安", "大白", "橙子", "小七", "阿福", "糖糖", "可乐", "豆豆")
AGENT_SPEED = (1.0, 0.8, 1.25, 0.9, 1.5, 0.7, 1.1, 1.35)  # an agent's reply time relative to the shop's
HOUR_WEIGHTS = (3, 1.5, .8, .4, .3, .3, .5, 1, 2, 4, 6, 6.5, 5, 5.5, 6, 6, 5.5, 5, 5, 6, 7, 8, 7.5, 5)
DAY_BOOST = {"11-10": 1.6, "11-11": 3.0, "11-12": 1.4}  # 双十一

PHRASES: dict[str, tuple[str, ...]] = {
    "open": ("在吗", "您好，在吗？", "亲，这款还有货吗", "请问什么时候发货", "这个尺码偏大还是偏小", "我身高165体重110斤穿什么码",
             "可以便宜点吗", "有优惠券吗", "我想退换货", "收到的衣服有点瑕疵", "怎么申请退款", "物流怎么一直没更新",
             "尺码S,M,L都有吗", "标题写着\"包邮\"，是真的吗", "能开发票吗", "你好"),
    "ask": ("发什么快递", "大概几天能到", "颜色有色差吗", "可以改地址吗", "有赠品吗", "？", "在吗？", "链接里的黑色还有吗"),
    "follow": ("好的", "那我拍M码吧", "可以的", "嗯嗯", "那退货运费谁出", "麻烦快点发货哈", "收到", "我再看看"),
    "thanks": ("好的谢谢", "谢谢", "好的，我知道了", "OK谢谢亲", "行，那我先下单了"),
    "greet": ("亲，您好，很高兴为您服务~", "在的亲，请问有什么可以帮您？", "您好，我是客服，请问有什么需要帮助的吗",
              "亲，在的哦~"),
    "info": ("亲，现货的哦，今天16点前付款当天发货", "亲，建议您拍M码哦", "亲，尺码表在详情页可以参考一下",
             "默认发中通/圆通，偏远地区发邮政", "亲，支持七天无理由退换货的哦", "亲，麻烦提供一下订单号和照片，我们马上为您处理",
             "已经帮您备注优先发货了", "亲，店铺有满199减20的活动哦", "亲，一般2-3天就能到哦"),
    "close": ("感谢您的咨询，祝您生活愉快~", "不客气亲，有问题随时联系我们哦", "亲，记得给个五星好评哦，谢谢~"),
    "bot": ("您好，欢迎光临本店！客服马上为您服务~（自动回复）", "亲，现在咨询人数较多，请稍等~",
            "【智能助手】您是否想问：发货时间/尺码推荐/退换货"),
    "tail": ("顾客已离开会话", "会话已结束", "系统消息：买家已下单"),
    "remind": ("亲，您拍下的宝贝还没有付款哦，库存紧张，早付款早发货~", "亲，看到您的订单还未支付，有什么疑问可以随时问我哦"),
    "remind_reply": ("好的，马上付", "等会儿付", "不要了", "刚才有事，现在付"),
    "remind_thanks": ("好的亲，付款后尽快为您安排发货~", "好的，有需要随时找我哦"),
}
PRODUCTS = ("2026秋冬新款加厚羊羔毛外套女", "纯棉长袖T恤男宽松", "高腰显瘦牛仔裤", "加绒卫衣连帽", "羽绒服短款白鸭绒", "针织毛衣开衫")

ROLE = {"en": ("customer", "agent", "bot", "system"), "zh": ("顾客", "客服", "机器人", "系统"),
        "zh2": ("买家", "卖家", "智能客服", "系统")}
LEVEL_ZH = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
CATEGORY = {"en": ("product", "service"), "zh": ("商品质量", "服务质量")}
STATUS = {"zh": ("交易成功", "等待买家付款", "交易关闭"), "api": ("TRADE_FINISHED", "WAIT_BUYER_PAY", "TRADE_CLOSED")}
REASON = {"en": ("no_reason_7d", "quality", "usage", "other"), "zh": ("七天无理由", "质量问题", "使用问题", "其他"),
          "zh2": ("7天无理由退货", "商品质量问题", "消费者使用问题", "其它")}
OUTCOME = {"en": ("refunded", "refused", "withdrawn", "open"), "zh": ("退款成功", "拒绝退款", "退款关闭", "退款中"),
           "api": ("SUCCESS", "SELLER_REFUSE_BUYER", "CLOSED", "WAIT_SELLER_AGREE")}
OPEN = 3  # the outcome of a refund not completed when the export was taken
FEEDBACK_CATEGORY = {"en": ("logistics", "packaging", "product", "service", "other"),
                     "zh": ("物流", "包装", "商品", "服务", "其他")}
FLAG = {  # (false, true) labels of the yes/no columns, per label dialect
    "platform_involved": {"en": ("no", "yes"), "zh": ("否", "是"), "zh2": ("未介入", "已介入")},
    "handled": {"en": ("false", "true"), "zh": ("未处理", "已处理")},
    "intent_correct": {"en": ("false", "true"), "zh": ("错误", "正确"), "zh2": ("错", "对")},
    "answer_correct": {"en": ("false", "true"), "zh": ("错误", "正确"), "zh2": ("错", "对")},
}
UNPAID_CLOSE = 72 * 3600  # an unpaid order closes 72 h after it was created

HEADERS = {  # canonical column -> header, per header dialect (SPEC §1.2)
    "zh": {
        "messages": {"message_id": "消息ID", "session_id": "会话ID", "shop_id": "店铺ID", "customer_id": "买家昵称",
                     "agent_id": "客服账号", "sender_role": "发送方", "sent_at": "发送时间", "content": "消息内容"},
        "ratings": {"rating_id": "评价ID", "shop_id": "店铺ID", "session_id": "会话ID", "customer_id": "顾客ID",
                    "agent_id": "客服ID", "rated_at": "评价时间", "level": "满意度"},
        "orders": {"order_id": "订单编号", "shop_id": "店铺ID", "customer_id": "买家会员名", "created_at": "订单创建时间",
                   "paid_at": "订单付款时间", "amount": "买家实际支付金额", "status": "订单状态", "title": "宝贝标题"},
        "complaints": {"complaint_id": "投诉编号", "shop_id": "店铺ID", "customer_id": "顾客ID", "order_id": "订单编号",
                       "category": "投诉类型", "created_at": "投诉时间", "responded_at": "首次反馈时间", "resolved_at": "解决时间",
                       "agreed_at": "约定沟通时间"},
        "reviews": {"review_id": "评价ID", "shop_id": "店铺ID", "order_id": "订单编号", "customer_id": "顾客ID",
                    "created_at": "评价时间", "rating": "评分"},
        "targets": {"shop_id": "店铺ID", "period": "考核周期", "target_sales": "目标销售额"},
        "refunds": {"refund_id": "退款编号", "shop_id": "店铺ID", "order_id": "订单编号", "customer_id": "买家会员名",
                    "requested_at": "退款申请时间", "completed_at": "退款完结时间", "reason": "退款原因",
                    "outcome": "退款状态"},
        "disputes": {"dispute_id": "纠纷编号", "shop_id": "店铺ID", "order_id": "订单编号", "customer_id": "买家会员名",
                     "opened_at": "纠纷发起时间", "closed_at": "纠纷完结时间", "platform_involved": "是否平台介入"},
        "feedback": {"feedback_id": "反馈编号", "shop_id": "店铺ID", "customer_id": "买家昵称", "category": "反馈类型",
                     "received_at": "反馈时间", "handled_at": "处理时间", "handled": "处理状态"},
        "bot_answers": {"answer_id": "抽检编号", "shop_id": "店铺ID", "session_id": "会话ID", "customer_id": "买家昵称",
                        "question": "顾客问题", "answered_at": "应答时间", "intent_correct": "意图识别正确",
                        "answer_correct": "回复正确"},
    },
    "zh2": {"messages": {"shop_id": "店铺ID", "customer_id": "顾客ID", "agent_id": "客服ID", "sender_role": "发送方",
                         "sent_at": "发送时间", "content": "内容"},
            "refunds": {"refund_id": "售后单号", "shop_id": "店铺编号", "order_id": "订单号", "customer_id": "买家昵称",
                        "requested_at": "买家申请退款时间", "completed_at": "退款完成时间", "reason": "售后原因",
                        "outcome": "处理结果"}},
}
TIME_COLUMNS = {"messages": ("sent_at",), "ratings": ("rated_at",), "orders": ("created_at", "paid_at"),
                "complaints": ("created_at", "responded_at", "resolved_at", "agreed_at"), "reviews": ("created_at",),
                "targets": (), "refunds": ("requested_at", "completed_at"), "disputes": ("opened_at", "closed_at"),
                "feedback": ("received_at", "handled_at"), "bot_answers": ("answered_at",)}
# The times that a later export may show where an earlier one did not (agreed_at is known once the complaint is
# answered, whatever time was agreed).
LATER = {"complaints": ("responded_at", "resolved_at"), "refunds": ("completed_at",), "disputes": ("closed_at",),
         "feedback": ("handled_at",)}
COLUMNS = {
    "messages": ("message_id", "session_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at", "content"),
    "ratings": ("rating_id", "shop_id", "session_id", "customer_id", "agent_id", "rated_at", "level"),
    "orders": ("order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount", "status"),
    "complaints": ("complaint_id", "shop_id", "customer_id", "order_id", "category", "created_at", "responded_at",
                   "resolved_at", "agreed_at"),
    "reviews": ("review_id", "shop_id", "order_id", "customer_id", "created_at", "rating"),
    "targets": ("shop_id", "period", "target_sales"),
    "refunds": ("refund_id", "shop_id", "order_id", "customer_id", "requested_at", "completed_at", "reason", "outcome"),
    "disputes": ("dispute_id", "shop_id", "order_id", "customer_id", "opened_at", "closed_at", "platform_involved"),
    "feedback": ("feedback_id", "shop_id", "customer_id", "category", "received_at", "handled_at", "handled"),
    "bot_answers": ("answer_id", "shop_id", "session_id", "customer_id", "question", "answered_at", "intent_correct",
                    "answer_correct"),
}


@dataclass(frozen=True)
class FileSpec:
    """One output file: which rows (kind, shop groups, time window) and in which export dialect."""

    name: str
    kind: str
    columns: tuple[str, ...]
    groups: tuple[int, ...] | None = None  # shop index % 3; None: every shop
    lo: int = 0  # rows whose time is in [lo, as_of) (seconds from START) ...
    as_of: int = 0  # ... as an export taken at as_of shows them (later payments/answers not yet there)
    prev: int | None = None  # ... plus older orders/complaints/refunds/... that changed since the export taken at prev
    headers: str = "en"  # "en" (canonical), "zh", "zh2"
    labels: str = "en"  # "en", "zh", "zh2", "api" (order status and refund outcome codes)
    time: str = "plain"  # "plain", "slash", "iso" (+08:00), "isoz" (UTC, Z), "isot" (T, no offset), "excel"
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig", "gb18030"
    crlf: bool = False
    breaks: tuple[tuple[str, str | None], ...] = ()  # (column, bad value), spread over the file's rows


# The broken rows of the showcase files (SPEC §1.3 rejects); each file keeps them under 1% of its rows.
SHOWCASE_BREAKS = {
    "messages": (("sent_at", "2026-11-07 25:61:00"), ("sender_role", "other")),
    "messages_zh2": (("shop_id", None),),  # an empty field
    "orders": (("amount", "-89.00"),),
    "ratings": (("level", "7"),),
}


# The service complaints of the showcase take these draws in turn: in time, in time, late, agreed, exactly 24 h, in
# time, never answered, in time, ... (the bands of `_after_sales`).
SHOWCASE_FEEDBACK = (0.9, 0.5, 0.22, 0.05, 0.14, 0.7, 0.19, 0.8, 0.6, 0.35)


# ---------------------------------------------------------------- random numbers

def _uniform(name: str, n: int) -> pl.Series:
    """n floats in (0, 1), a pure function of name."""
    raw = hashlib.shake_256(f"cskpi-sample/{name}".encode()).digest(4 * n)
    ints = pl.from_arrow(pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(raw)]))
    return (ints.cast(pl.Float64) + 0.5) / 4294967296.0


def _rand(df: pl.DataFrame, scope: str, *names: str) -> pl.DataFrame:
    return df.with_columns(_uniform(f"{scope}/{n}", df.height).alias(f"u_{n}") for n in names)


def _normal(a: str, b: str) -> pl.Expr:
    return (-2 * pl.col(a).log()).sqrt() * (2 * math.pi * pl.col(b)).cos()


def _pick(values, idx: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(idx)


def _phrase(cat: pl.Expr, u: pl.Expr) -> pl.Expr:
    """A phrase of category `cat` (index into PHRASES' keys) chosen by u."""
    cats = list(PHRASES)
    flat = [p for c in cats for p in PHRASES[c]]
    offsets = [sum(len(PHRASES[c]) for c in cats[:i]) for i in range(len(cats))]
    sizes = [len(PHRASES[c]) for c in cats]
    i = _pick(offsets, cat) + (u * _pick(sizes, cat)).floor().cast(pl.Int64)
    return _pick(flat, i)


CAT = {c: i for i, c in enumerate(PHRASES)}
PRE, CUST, BOT, XFER, AGENT, TAIL = range(6)  # the slots of a turn, in order (PRE: a reminder opening a session)


# ---------------------------------------------------------------- shops

def _shops(n: int, messages: int, days: int, seed: int, showcase: bool) -> pl.DataFrame:
    width = max(3, len(str(n)))
    df = _rand(pl.DataFrame({"shop_idx": pl.int_range(n, eager=True)}), f"{seed}/shops", "w1", "w2", "q", "price")
    size = (1 + 0.3 * pl.col("u_w1")) if showcase else (0.8 * _normal("u_w1", "u_w2")).exp()
    # q: 0 is a well-run shop, 1 a poorly run one; spread evenly so that shops land in different bands.
    q = ((pl.col("shop_idx") * 0.618034 + 0.1 + 0.1 * pl.col("u_q")) % 1.0)
    df = df.with_columns(size=size, q=q, platform=_pick(PLATFORMS, pl.col("shop_idx") % 5))
    quota = (messages * pl.col("size") / pl.col("size").sum()).round().cast(pl.Int64)
    per_day = quota / 6.6 / days
    bot_p = _pick((0.85, 0.0, 0.6), pl.col("shop_idx") % 3)
    return df.select(
        "shop_idx",
        shop_id=pl.format("S{}", pl.col("shop_idx").add(1).cast(pl.String).str.zfill(width)),
        group=pl.col("shop_idx") % 3,
        prefix=pl.col("platform").replace_strict(CUSTOMER_PREFIX),
        quota=quota,
        n_agents=(per_day / 30).round().clip(2, 40).cast(pl.Int64),
        n_cust=(quota / 6.6 * 0.6 + 20).cast(pl.Int64),
        rt_med=4 + 16 * pl.col("q"),  # median seconds to a human reply
        tail_p=0.01 + 0.05 * pl.col("q"),  # reply after 1-20 min
        late_p=0.003 * pl.col("q") ** 2,  # first reply 1-8 h late
        unans_p=0.01 + 0.08 * pl.col("q"),
        sat_p=0.97 - 0.12 * pl.col("q"),
        conv_p=0.46 - 0.16 * pl.col("q"),
        bad_p=0.02 + 0.03 * pl.col("q"),
        complaint_p=0.0002 + 0.0013 * pl.col("q"),
        bot_p=bot_p,
        price=(6000 + 30000 * pl.col("u_price")).round().cast(pl.Int64),  # typical order, cents
        q="q",
        refund_p=0.03 + 0.04 * pl.col("q"),
        unhandled_p=(pl.col("q") - 0.6).clip(0) * 0.25,  # feedback left unhandled: poorly run shops only
        # audit about five bot replies a day (a bot replies once in most inquiry sessions)
        audit_p=(5 / (per_day * bot_p * 0.93)).clip(upper_bound=1.0),
    )


def _chunks(shops: pl.DataFrame, showcase: bool) -> list[pl.DataFrame]:
    if showcase:
        return [shops]
    chunk_no = (shops["quota"].cum_sum() - 1) // CHUNK_MESSAGES
    return [shops.filter(chunk_no == c) for c in chunk_no.unique(maintain_order=True)]


def _day_cdf(days: int) -> pl.Series:
    w = []
    for d in range(days):
        date = START + timedelta(days=d)
        w.append(DAY_BOOST.get(date.strftime("%m-%d"), 1.0) + (0.15 if date.weekday() >= 5 else 0.0))
    return pl.Series(w).cum_sum() / sum(w)


def _hour_cdf() -> pl.Series:
    return pl.Series(HOUR_WEIGHTS, dtype=pl.Float64).cum_sum() / sum(HOUR_WEIGHTS)


def _when(u: pl.Series, cdf: pl.Series) -> pl.Series:
    return cdf.search_sorted(u, side="right").cast(pl.Int64).clip(0, len(cdf) - 1)


# ---------------------------------------------------------------- simulation of one chunk of shops

def _simulate(shops: pl.DataFrame, days: int, seed: int, showcase: bool) -> dict[str, pl.DataFrame]:
    scope = f"{seed}/{shops['shop_idx'][0]}"
    end = days * DAY
    sessions, msgs, audits = _conversations(shops, days, scope, showcase)
    orders = _orders(shops, sessions, days, scope)
    ratings = _ratings(sessions, scope, end)
    complaints, reviews = _after_sales(orders, shops, scope, end, showcase)
    targets = _targets(orders, scope, end)
    refunds = _refunds(orders, shops, scope, end)
    disputes = _disputes(refunds, complaints, shops, scope, end)
    return {"messages": msgs, "ratings": ratings, "orders": orders, "complaints": complaints,
            "reviews": reviews, "targets": targets, "refunds": refunds, "disputes": disputes,
            "feedback": _feedback(shops, days, scope, showcase), "bot_answers": audits}


def _conversations(shops: pl.DataFrame, days: int, scope: str, showcase: bool):
    end = days * DAY
    c = pl.col
    # Sessions, more than needed; trimmed to each shop's message quota once their lengths are known.
    s = (shops.select("shop_idx", k=pl.int_ranges(0, (c("quota") / 5.5 * 1.3 + 10).cast(pl.Int64))).explode("k")
         .join(shops, on="shop_idx", how="left", maintain_order="left")
         .with_row_index("sess").with_columns(c("sess").cast(pl.Int64)))
    s = _rand(s, f"{scope}/sessions", "kind", "T", "bot", "tr", "tr2", "tail", "late", "a1", "a2", "cust",
              "day", "hour", "sec")
    kind = pl.when(c("u_kind") < 0.07).then(2).when(c("u_kind") < 0.07 + 0.93 * c("unans_p")).then(1).otherwise(0)
    s = s.with_columns(kind=kind).with_columns(
        T=pl.when(c("kind") == 0).then((1 + (c("u_T").log() / math.log(0.62)).floor()).clip(1, 9)).otherwise(1)
        .cast(pl.Int64),
        bot=(c("u_bot") < c("bot_p")) & (c("kind") != 2),
        late=(c("kind") == 0) & (c("u_late") < c("late_p")),
        tail=c("u_tail") < 0.04,
        a1=(c("u_a1") * c("n_agents")).floor().cast(pl.Int64),
        cust=(c("n_cust") * c("u_cust").pow(1.4)).floor().cast(pl.Int64),
        start=(_when(s["u_day"], _day_cdf(days)) * DAY + _when(s["u_hour"], _hour_cdf()) * 3600
               + (s["u_sec"] * 3600).floor().cast(pl.Int64)),
    ).with_columns(
        a2=(c("a1") + 1 + (c("u_a2") * (c("n_agents") - 1)).floor().cast(pl.Int64)) % c("n_agents"),
        transfer=pl.when((c("kind") == 0) & (c("T") >= 2) & (c("u_tr") < 0.05))
        .then(1 + (c("u_tr2") * (c("T") - 1)).floor().cast(pl.Int64)).otherwise(-1),
    )
    # Turns: [reminder] customer x c, [bot], [transfer notice], agent x a, [closing system message].
    t = s.select("sess", "shop_idx", "kind", "T", "bot", "late", "tail", "transfer", "a1", "a2", "rt_med",
                 "tail_p", t=pl.int_ranges(0, c("T"))).explode("t")
    t = _rand(t, f"{scope}/turns", "c", "a", "mix", "z1", "z2", "rt", "think", "think2", "gc2", "gc3", "gb", "gx")
    first = c("t") == 0
    agent = pl.when((c("transfer") >= 0) & (c("t") >= c("transfer"))).then(c("a2")).otherwise(c("a1"))
    normal_rt = (c("rt_med") * _pick(AGENT_SPEED, agent % len(AGENT_SPEED)) * pl.when(first).then(1.0).otherwise(1.25)
                 * (0.55 * _normal("u_z1", "u_z2")).exp()).clip(2, 150)
    t = t.with_columns(
        pre=((c("kind") == 2) & first).cast(pl.Int64),
        c=pl.when(c("kind") == 2).then((c("u_c") < 0.5).cast(pl.Int64))
        .when(first).then(1 + (c("u_c") < 0.35).cast(pl.Int64) + (c("u_c") < 0.08).cast(pl.Int64))
        .otherwise(1 + (c("u_c") < 0.2).cast(pl.Int64)),
        b=(c("bot") & first).cast(pl.Int64),
        x=(c("t") == c("transfer")).cast(pl.Int64),
        z=(c("tail") & (c("t") == c("T") - 1)).cast(pl.Int64),
        agent=agent,
        rt=pl.when(first & c("late")).then(3600 * (1 + 7 * c("u_rt")))
        .when(c("u_mix") < c("tail_p")).then(60 * (c("u_rt") * math.log(20)).exp())
        .otherwise(normal_rt).round().cast(pl.Int64),
        think=(40 * (1.0 * _normal("u_think", "u_think2")).exp()).clip(3, 1500).round().cast(pl.Int64),
        gc2=(2 + 38 * c("u_gc2")).round().cast(pl.Int64),
        gc3=(2 + 38 * c("u_gc3")).round().cast(pl.Int64),
        gb=(1 + 2 * c("u_gb")).round().cast(pl.Int64),
        gx=(2 + 13 * c("u_gx")).round().cast(pl.Int64),
    ).with_columns(
        a=pl.when(c("kind") == 1).then(0).when(c("kind") == 2).then(c("c"))
        .otherwise(1 + (c("u_a") < 0.3).cast(pl.Int64)),
    ).with_columns(n=c("pre") + c("c") + c("b") + c("x") + c("a") + c("z"))

    # Trim each shop's sessions to its message quota.
    per_sess = t.group_by("sess", maintain_order=True).agg(c("n").sum())
    s = s.with_columns(n=per_sess["n"])
    kept = s.select((c("n").cum_sum().over("shop_idx") - c("n") < c("quota")).alias("keep"))["keep"]
    s = s.filter(kept)
    t = t.filter(pl.lit(kept).gather(c("sess")))

    # Messages.
    m = t.with_columns(j=pl.int_ranges(0, c("n"))).explode("j")
    m = _rand(m, f"{scope}/messages", "gap", "text", "ml")
    e0, e1 = c("pre"), c("pre") + c("c")
    e2, e3 = e1 + c("b"), e1 + c("b") + c("x")
    e4 = e3 + c("a")
    j = c("j")
    slot = (pl.when(j < e0).then(PRE).when(j < e1).then(CUST).when(j < e2).then(BOT).when(j < e3).then(XFER)
            .when(j < e4).then(AGENT).otherwise(TAIL))
    m = m.with_columns(slot=slot, k=pl.when(j < e1).then(j - e0).otherwise(j - e3))
    pre_elapsed = ((c("c") >= 2).cast(pl.Int64) * c("gc2") + (c("c") >= 3).cast(pl.Int64) * c("gc3")
                   + c("b") * c("gb") + c("x") * c("gx"))
    slot, k, first_turn, last_turn = c("slot"), c("k"), c("t") == 0, (c("t") == c("T") - 1) & (c("T") > 1)
    gap = (pl.when(slot == PRE).then(0)
           .when((slot == CUST) & (k == 0)).then(
               pl.when(c("kind") == 2).then((30 + c("think") * 4).clip(upper_bound=1700)).when(first_turn).then(0)
               .otherwise(c("think")))
           .when(slot == CUST).then(pl.when(k == 1).then(c("gc2")).otherwise(c("gc3")))
           .when(slot == BOT).then(c("gb"))
           .when(slot == XFER).then(c("gx"))
           .when((slot == AGENT) & (k == 0)).then(pl.max_horizontal(pl.lit(1), c("rt") - pre_elapsed))
           .when(slot == AGENT).then((3 + 37 * c("u_gap")).round().cast(pl.Int64))
           .otherwise((20 + 280 * c("u_gap")).round().cast(pl.Int64)))
    cat = (pl.when(slot == PRE).then(CAT["remind"])
           .when((slot == CUST) & (k == 0)).then(
               pl.when(c("kind") == 2).then(CAT["remind_reply"]).when(first_turn).then(CAT["open"])
               .when(last_turn).then(CAT["thanks"]).otherwise(CAT["follow"]))
           .when(slot == CUST).then(CAT["ask"])
           .when(slot == BOT).then(CAT["bot"])
           .when((slot == AGENT) & (k == 0)).then(
               pl.when(c("kind") == 2).then(CAT["remind_thanks"]).when(first_turn).then(CAT["greet"])
               .when(last_turn).then(CAT["close"]).otherwise(CAT["info"]))
           .when(slot == AGENT).then(CAT["info"])
           .otherwise(CAT["tail"]))
    role = (pl.when(slot.is_in([PRE, AGENT])).then(1).when(slot == CUST).then(0)
            .when(slot == BOT).then(2).otherwise(3))
    m = m.with_columns(gap=gap.cast(pl.Int64), cat=cat, role=role)
    cs = c("gap").cum_sum()
    m = m.with_columns(offset=cs - pl.when((c("t") == 0) & (c("j") == 0)).then(cs).forward_fill())
    last = m.select(c("sess") != c("sess").shift(-1, fill_value=-1))["sess"]
    s = s.with_columns(d=m.filter(last)["offset"])

    # Push each customer's sessions apart: > 30 min after the previous one ends, > 24.5 h after an unanswered
    # one when an agent opens the next (else the reminder would join it as a late reply, SPEC §2.2).
    s = s.sort("shop_idx", "cust", "start", "sess")
    new_conv = ((c("shop_idx") != c("shop_idx").shift()) | (c("cust") != c("cust").shift())).fill_null(True)
    gap_before = pl.when((c("kind") == 2) & (c("kind").shift() == 1)).then(24 * 3600 + 1860).otherwise(1860)
    s = s.with_columns(step=pl.when(new_conv).then(0).otherwise(c("d").shift() + gap_before))
    p = c("step").cum_sum() - pl.when(new_conv).then(c("step").cum_sum()).forward_fill()
    s = s.with_columns(p=p).with_columns(start=(c("start") - c("p")).cum_max().over("shop_idx", "cust") + c("p"))
    s = s.filter(c("start") < end).sort("sess")
    m = m.join(s.select("sess", "start"), on="sess", how="inner", maintain_order="left")
    m = m.with_columns(sent_at=c("start") + c("offset")).filter(c("sent_at") < end)

    # Ids and strings.
    s = s.sort("shop_idx", "start", "sess").with_columns(
        customer_id=_customer(c("cust")),
        session_id=pl.format("{}-{}-{}", c("shop_id"),
                             pl.from_epoch(c("start") + EPOCH, time_unit="s").dt.strftime("%Y%m%d"),
                             pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(6)),
        agent_id=_agent(c("shop_id"), c("a1")),
    )
    m = m.join(s.select("sess", "shop_id", "group", "customer_id", "session_id", "a1", "a2"), on="sess",
               how="left", maintain_order="left").sort("shop_idx", "sent_at", "sess", "t", "j")
    content = _phrase(c("cat"), c("u_text"))
    content = (pl.when(c("slot") == XFER).then(pl.format("会话已转接至{}", _agent(c("shop_id"), c("a2"))))
               .otherwise(content))
    if showcase:  # a few customers press Enter mid-message (quoted newlines), in the Chinese shop group only
        content = (pl.when((c("group") == 1) & (c("role") == 0) & (c("u_ml") < 0.004))
                   .then(pl.format("亲在吗\n{}", content)).otherwise(content))
    m = m.with_columns(content=content)
    msgs = m.select(
        "shop_idx", "group",
        message_id=(7_000_000_000_000_000 + c("shop_idx") * 10_000_000_000
                    + pl.int_range(pl.len()).over("shop_idx")).cast(pl.String),
        session_id="session_id", shop_id="shop_id", customer_id="customer_id",
        agent_id=pl.when(c("role") <= 1).then(_agent(c("shop_id"), c("agent"))),
        sender_role="role", sent_at="sent_at", content="content",
    )
    return s, msgs, _audits(m, shops, scope)


def _audits(m: pl.DataFrame, shops: pl.DataFrame, scope: str) -> pl.DataFrame:
    """An audit sample of the bot's replies (智能客服抽检): a few a day per shop with a bot, each judged on whether the
    bot understood the question and whether its reply was right; the question is the customer's message before it."""
    c = pl.col
    bots = m.filter(c("slot") == BOT).join(shops.select("shop_idx", "q", "audit_p"), on="shop_idx", how="left",
                                           maintain_order="left")
    bots = _rand(bots, f"{scope}/audits", "pick", "intent", "answer")
    bots = bots.filter(c("u_pick") < c("audit_p"))
    asked = (m.filter((c("slot") == CUST) & (c("t") == 0) & (c("k") == c("c") - 1))
             .join(bots.select("sess"), on="sess", how="semi").select("sess", question="content"))
    intent = c("u_intent") < 0.96 - 0.06 * c("q")
    answer = pl.when(intent).then(c("u_answer") < 0.985 - 0.04 * c("q")).otherwise(c("u_answer") < 0.1)
    return bots.join(asked, on="sess", how="left", maintain_order="left").select(
        "shop_idx",
        answer_id=pl.format("AI{}{}", c("shop_id").str.slice(1),
                            pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(6)),
        shop_id="shop_id", session_id=pl.when(c("group") == 0).then(c("session_id")),  # as its messages export
        customer_id="customer_id", question="question", answered_at="sent_at",
        intent_correct=intent.cast(pl.Int64), answer_correct=answer.cast(pl.Int64))


def _customer(idx: pl.Expr) -> pl.Expr:
    """A platform-style buyer nickname, unique per shop (the multiplier is a bijection mod 10^8)."""
    num = (idx * 2654435761 + pl.col("shop_idx") * 7919) % 100_000_000
    return pl.concat_str(pl.col("prefix"), num.cast(pl.String).str.zfill(8))


def _agent(shop_id: pl.Expr, idx: pl.Expr) -> pl.Expr:
    """Sub-account names as Taobao shows them: `S001:小美`, then `S001:小美2` past the 16th agent."""
    n = len(AGENT_NAMES)
    suffix = pl.when(idx >= n).then((idx // n + 1).cast(pl.String)).otherwise(pl.lit(""))
    return pl.concat_str(shop_id, pl.lit(":"), _pick(AGENT_NAMES, idx % n), suffix)


def _orders(shops: pl.DataFrame, s: pl.DataFrame, days: int, scope: str) -> pl.DataFrame:
    c = pl.col
    s = _rand(s, f"{scope}/orders", "conv", "o1", "o2", "mode", "o4", "z1", "z2")
    pay_soon = (60 * (1.0 * _normal("u_z1", "u_z2")).exp()).clip(5, 3000).round().cast(pl.Int64)
    # From inquiries: most pay within minutes, some the next day, a few 2-3 days later, some never.
    created = c("start") + (c("d") * c("u_o1")).round().cast(pl.Int64) + 30 + (600 * c("u_o2")).round().cast(pl.Int64)
    next_day = (c("start") // DAY + 1) * DAY + (8 * 3600 + c("u_o4") * 15.5 * 3600).round().cast(pl.Int64)
    orders_p = pl.when(c("kind") == 0).then(c("conv_p") / 0.92).otherwise(0.1)
    inquiry = (s.filter((c("kind") <= 1) & (c("u_conv") < orders_p)).with_columns(created_at=created).with_columns(
        paid_at=pl.when(c("u_mode") < 0.78).then(c("created_at") + pay_soon)
        .when(c("u_mode") < 0.94).then(pl.max_horizontal(next_day, c("created_at") + 60))
        .when(c("u_mode") < 0.97).then(c("created_at") + (50 * 3600 + c("u_o4") * 20 * 3600).round().cast(pl.Int64))))
    # Reminders (催付) are about an order placed earlier; some pay after the reminder.
    remind = (s.filter(c("kind") == 2).with_columns(
        created_at=c("start") - 1200 - (c("u_o1") * 16000).round().cast(pl.Int64),
        paid_at=pl.when(c("u_mode") < 0.45).then(c("start") + c("d") + 60 + (c("u_o4") * 1800).round().cast(pl.Int64))))
    cols = ("shop_idx", "shop_id", "customer_id", "created_at", "paid_at")
    # Silent buyers: orders without any chat, from customers outside the chatting pool.
    n_silent = s.filter(c("kind") <= 1).group_by("shop_idx", maintain_order=True).agg(n=(pl.len() * 0.9).round())
    silent = (shops.join(n_silent, on="shop_idx", how="inner", maintain_order="left")
              .select("shop_idx", "shop_id", "prefix", "n_cust", k=pl.int_ranges(0, c("n").cast(pl.Int64)))
              .explode("k"))
    silent = _rand(silent, f"{scope}/silent", "cust", "day", "hour", "sec", "mode", "z1", "z2")
    silent = silent.with_columns(
        created_at=(_when(silent["u_day"], _day_cdf(days)) * DAY + _when(silent["u_hour"], _hour_cdf()) * 3600
                    + (silent["u_sec"] * 3600).floor().cast(pl.Int64)),
        customer_id=_customer(c("n_cust") + (c("u_cust") * c("n_cust") * 2).floor().cast(pl.Int64)),
    ).with_columns(paid_at=pl.when(c("u_mode") < 0.93).then(c("created_at") + pay_soon))
    o = pl.concat([inquiry.select(cols), remind.select(cols), silent.select(cols)]).with_row_index("i")
    o = (o.filter(c("created_at").is_between(0, days * DAY, closed="left"))
         .join(shops.select("shop_idx", "price"), on="shop_idx", maintain_order="left")
         .sort("shop_idx", "created_at", "i"))
    o = _rand(o, f"{scope}/amounts", "a1", "a2", "id")
    return o.select(
        "shop_idx",
        order_id=(3_000_000_000_000_000_000 + c("shop_idx") * 10_000_000_000_000
                  + pl.int_range(pl.len()).over("shop_idx") * 1000 + (c("u_id") * 1000).floor().cast(pl.Int64))
        .cast(pl.String),
        shop_id="shop_id", customer_id="customer_id", created_at="created_at", paid_at="paid_at",
        amount=(c("price") * (0.5 * _normal("u_a1", "u_a2")).exp()).round().cast(pl.Int64).clip(500),  # cents
    )


def _ratings(s: pl.DataFrame, scope: str, end: int) -> pl.DataFrame:
    c = pl.col
    r = _rand(s, f"{scope}/ratings", "rate", "t", "sat", "lvl")
    r = r.filter((c("kind") == 0) & (c("u_rate") < 0.33)).with_columns(
        rated_at=c("start") + c("d") + 10 + (c("u_t") * 600).round().cast(pl.Int64),
        sat=c("u_sat") < c("sat_p") * pl.when(c("a1") % 5 == 4).then(0.96).otherwise(1.0),
    ).filter(c("rated_at") < end).sort("shop_idx", "rated_at", "sess")
    level = (pl.when(c("sat")).then(pl.when(c("u_lvl") < 0.72).then(5).otherwise(4))
             .otherwise(pl.when(c("u_lvl") < 0.55).then(3).when(c("u_lvl") < 0.8).then(2).otherwise(1)))
    return r.select("shop_idx", "group",
                    rating_id=pl.format("R{}{}", c("shop_id").str.slice(1),
                                        pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(7)),
                    shop_id="shop_id", session_id="session_id", customer_id="customer_id", agent_id="agent_id",
                    rated_at="rated_at", level=level)


def _after_sales(o: pl.DataFrame, shops: pl.DataFrame, scope: str, end: int, showcase: bool):
    c = pl.col
    paid = o.filter(c("paid_at") < end).join(shops.select("shop_idx", "complaint_p", "bad_p", "q"), on="shop_idx",
                                             how="left", maintain_order="left")
    paid = _rand(paid, f"{scope}/after", "comp", "ct", "z1", "z2", "rt", "cat", "rev", "vt", "stars", "s2", "fb",
                 "fb2")
    pick = c("u_comp") < c("complaint_p")
    if showcase:  # a handful even in a small sample
        pick = pick | (c("u_comp").rank("ordinal").over("shop_idx") <= 8)
    comp = paid.filter(pick).with_columns(
        created_at=c("paid_at") + DAY + (c("u_ct") * 7 * DAY).round().cast(pl.Int64),
    ).with_columns(
        responded_at=c("created_at") + (3 * 3600 * (1.1 * _normal("u_z1", "u_z2")).exp()).clip(120, 5 * DAY).round()
        .cast(pl.Int64),
    ).with_columns(
        resolved_at=c("responded_at") + (2 * 3600 + c("u_rt") * 70 * 3600).round().cast(pl.Int64),
    ).filter(c("created_at") < end).sort("shop_idx", "created_at", "order_id")
    # Service-quality complaints and the 24-hour rule (5.4.3.3 b 2): the solution mostly reaches the customer within
    # 24 h, sometimes exactly at 24 h, later in poorly run shops, sometimes never; a minority agree a contact time
    # 48 h on and keep it. The showcase's few service complaints go through these cases in turn (SHOWCASE_FEEDBACK).
    service = c("u_cat") >= 0.65
    u = c("u_fb")
    if showcase:
        u = _pick(SHOWCASE_FEEDBACK, (service.cast(pl.Int64).cum_sum() - 1) % len(SHOWCASE_FEEDBACK))
    fb = (pl.when(u < 0.12).then(25 * 3600 + (c("u_fb2") * 22 * 3600).round())  # agreed: by agreed_at
          .when(u < 0.16).then(24 * 3600)
          .when(u < 0.21).then(None)
          .when(u < 0.26 + 0.2 * c("q")).then(24 * 3600 + 600 + (c("u_fb2") * 48 * 3600).round())
          .otherwise(1200 + (c("u_fb2") ** 2 * 22.5 * 3600).round())).cast(pl.Int64)
    comp = comp.with_columns(
        resolved_at=pl.when(service).then(c("created_at") + fb).otherwise(c("resolved_at")),
        agreed_at=pl.when(service & (u < 0.12)).then(c("created_at") + 48 * 3600),
    ).with_columns(
        responded_at=pl.when(service)
        .then(pl.min_horizontal("responded_at", "resolved_at", c("created_at") + 20 * 3600))
        .otherwise(c("responded_at")))
    complaints = comp.select(
        "shop_idx",
        complaint_id=pl.format("TS{}{}", c("shop_id").str.slice(1),
                               pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(5)),
        shop_id="shop_id", customer_id="customer_id", order_id="order_id",
        category=service.cast(pl.Int64), created_at="created_at", responded_at="responded_at",
        resolved_at="resolved_at", agreed_at="agreed_at")
    stars = (pl.when(c("u_stars") < c("bad_p")).then(pl.when(c("u_s2") < 0.6).then(1).otherwise(2))
             .when(c("u_stars") < c("bad_p") + 0.05).then(3).when(c("u_stars") < c("bad_p") + 0.2).then(4).otherwise(5))
    rev = (paid.filter(c("u_rev") < 0.45)
           .with_columns(created_at=c("paid_at") + 2 * DAY + (c("u_vt") * 7 * DAY).round().cast(pl.Int64))
           .filter(c("created_at") < end).sort("shop_idx", "created_at", "order_id"))
    reviews = rev.select(
        "shop_idx",
        review_id=pl.format("PJ{}{}", c("shop_id").str.slice(1),
                            pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(7)),
        shop_id="shop_id", order_id="order_id", customer_id="customer_id", created_at="created_at", rating=stars)
    return complaints, reviews


def _refunds(o: pl.DataFrame, shops: pl.DataFrame, scope: str, end: int) -> pl.DataFrame:
    """Refund / return requests (退款退货) of paid orders: before shipping (minutes to a day after payment, mostly
    seven-day or other reasons) or after delivery (2-10 days, any reason); completed 1-72 h later (log-uniform:
    most within a day), a tail of 3-10 days, a few stuck open. Outcome: refunded, refused by the shop, withdrawn."""
    c = pl.col
    r = o.filter(c("paid_at") < end).join(shops.select("shop_idx", "refund_p", "q"), on="shop_idx", how="left",
                                          maintain_order="left")
    r = _rand(r, f"{scope}/refunds", "pick", "when", "wt", "reason", "fate", "dur", "tail", "stuck")
    early = c("u_when") < 0.35
    r = r.filter(c("u_pick") < c("refund_p")).with_columns(
        requested_at=c("paid_at") + pl.when(early).then(300 + (c("u_wt") * 20 * 3600).round())
        .otherwise(2 * DAY + (c("u_wt") * 8 * DAY).round()).cast(pl.Int64),
        reason=pl.when(early).then(pl.when(c("u_reason") < 0.7).then(0).otherwise(3))
        .otherwise(pl.when(c("u_reason") < 0.4).then(0).when(c("u_reason") < 0.65 + 0.15 * c("q")).then(1)
                   .when(c("u_reason") < 0.88).then(2).otherwise(3)),
        outcome=pl.when(c("u_fate") < 0.84 - 0.1 * c("q")).then(0).when(c("u_fate") < 0.95).then(1).otherwise(2),
    ).with_columns(
        completed_at=pl.when(c("u_stuck") >= 0.02).then(
            c("requested_at") + pl.when(c("u_tail") < 0.06 + 0.1 * c("q"))
            .then(3 * DAY + (c("u_dur") * 7 * DAY).round())
            .otherwise((3600 * (c("u_dur") * math.log(72)).exp()).round()).cast(pl.Int64)),
    ).filter(c("requested_at") < end).sort("shop_idx", "requested_at", "order_id")
    return r.select(
        "shop_idx",
        refund_id=pl.format("TK{}{}", c("shop_id").str.slice(1),
                            pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(6)),
        shop_id="shop_id", order_id="order_id", customer_id="customer_id", requested_at="requested_at",
        completed_at="completed_at", reason="reason", outcome="outcome")


def _disputes(refunds: pl.DataFrame, complaints: pl.DataFrame, shops: pl.DataFrame, scope: str,
              end: int) -> pl.DataFrame:
    """Online disputes (在线争议/维权): most refused refunds and a few others escalate after the request, and some
    service complaints answered late or never; the platform steps in on some (more in poorly run shops); most close
    within 1-9 days."""
    c = pl.col
    r = _rand(refunds, f"{scope}/disputes", "esc", "ot")
    r = r.filter(pl.when(c("completed_at").is_null()).then(c("u_esc") < 0.5)
                 .when(c("outcome") == 1).then(c("u_esc") < 0.55).otherwise(c("u_esc") < 0.02))
    refused = (c("outcome") == 1) & c("completed_at").is_not_null()
    r = r.select("shop_idx", "shop_id", "order_id", "customer_id", opened_at=pl.when(refused).then(
        c("completed_at") + 3600 + (c("u_ot") * 47 * 3600).round())
        .otherwise(c("requested_at") + DAY + (c("u_ot") * 4 * DAY).round()).cast(pl.Int64))
    k = _rand(complaints, f"{scope}/disputes_c", "esc", "ot")
    late = (c("category") == 1) & (c("resolved_at").is_null()
                                   | (c("resolved_at") > c("agreed_at").fill_null(c("created_at") + DAY)))
    k = k.filter(c("u_esc") < pl.when(late).then(0.3).otherwise(0.02)).select(
        "shop_idx", "shop_id", "order_id", "customer_id",
        opened_at=c("created_at") + 2 * 3600 + (c("u_ot") * 70 * 3600).round().cast(pl.Int64))
    d = (pl.concat([r, k]).filter(c("opened_at") < end).join(shops.select("shop_idx", "q"), on="shop_idx",
                                                               how="left", maintain_order="left")
         .sort("shop_idx", "opened_at", "order_id"))
    d = _rand(d, f"{scope}/dispute_ends", "pi", "cl")
    return d.select(
        "shop_idx",
        dispute_id=pl.format("JF{}{}", c("shop_id").str.slice(1),
                             pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(5)),
        shop_id="shop_id", order_id="order_id", customer_id="customer_id", opened_at="opened_at",
        closed_at=c("opened_at") + DAY + (c("u_cl") * 8 * DAY).round().cast(pl.Int64),
        platform_involved=(c("u_pi") < 0.2 + 0.3 * c("q")).cast(pl.Int64))


def _feedback(shops: pl.DataFrame, days: int, scope: str, showcase: bool) -> pl.DataFrame:
    """Customer feedback (顾客反馈, suggestions): about one per 20 inquiry sessions, at chat hours; handled within
    minutes to hours and the same day, except a few a poorly run shop leaves unhandled."""
    c = pl.col
    f = (shops.select("shop_idx", "shop_id", "prefix", "n_cust", "q", "unhandled_p",
                      k=pl.int_ranges(0, (c("quota") / 6.6 * 0.05 + 3).round().cast(pl.Int64))).explode("k"))
    f = _rand(f, f"{scope}/feedback", "cust", "day", "hour", "sec", "cat", "z1", "z2", "unh")
    f = f.with_columns(
        received_at=(_when(f["u_day"], _day_cdf(days)) * DAY + _when(f["u_hour"], _hour_cdf()) * 3600
                     + (f["u_sec"] * 3600).floor().cast(pl.Int64)),
    ).sort("shop_idx", "received_at", "k")
    unhandled = c("u_unh") < c("unhandled_p")
    if showcase:  # at least one in a poorly run shop
        unhandled = unhandled | ((c("unhandled_p") > 0) & (c("u_unh").rank("ordinal").over("shop_idx") == 1))
    delay = (1800 * (1.0 * _normal("u_z1", "u_z2")).exp()).clip(60, 10 * 3600).round().cast(pl.Int64)
    category = (pl.when(c("u_cat") < 0.3).then(0).when(c("u_cat") < 0.45).then(1).when(c("u_cat") < 0.7).then(2)
                .when(c("u_cat") < 0.9).then(3).otherwise(4))
    return f.select(
        "shop_idx",
        feedback_id=pl.format("FK{}{}", c("shop_id").str.slice(1),
                              pl.int_range(pl.len()).over("shop_idx").add(1).cast(pl.String).str.zfill(5)),
        shop_id="shop_id", customer_id=_customer((c("u_cust") * c("n_cust")).floor().cast(pl.Int64)),
        category=category, received_at="received_at",
        handled_at=pl.when(~unhandled).then(pl.min_horizontal(c("received_at") + delay,
                                                               (c("received_at") // DAY + 1) * DAY - 1)),
    )


def _targets(o: pl.DataFrame, scope: str, end: int) -> pl.DataFrame:
    c = pl.col
    paid = o.filter(c("paid_at") < end).with_columns(dt=pl.from_epoch(c("paid_at") + EPOCH, time_unit="s"))
    month = paid.with_columns(period=c("dt").dt.strftime("%Y-%m"))
    quarter = paid.with_columns(period=pl.format("{}-Q{}", c("dt").dt.year(), c("dt").dt.quarter()))
    sales = (pl.concat([month, quarter]).group_by("shop_idx", "shop_id", "period", maintain_order=True)
             .agg(sales=c("amount").sum()).sort("shop_idx", "period"))
    sales = _rand(sales, f"{scope}/targets", "ach")
    return sales.select("shop_idx", "shop_id", "period",
                        target_sales=(c("sales") / 100 / (0.8 + 0.3 * c("u_ach")) / 100).round().cast(pl.Int64)
                        .clip(1) * 100)


# ---------------------------------------------------------------- export dialects and files

def _status(as_of: int) -> pl.Expr:
    c = pl.col
    return (pl.when(c("paid_at") < as_of).then(0).when(as_of - c("created_at") < UNPAID_CLOSE).then(1).otherwise(2))


def _window(kind: str, df: pl.DataFrame, spec: FileSpec) -> pl.DataFrame:
    """The rows an export taken at spec.as_of holds, with what happened after as_of not yet known."""
    c = pl.col
    tcol = TIME_COLUMNS[kind][0] if kind != "targets" else None
    if spec.groups is not None:
        df = df.filter((c("shop_idx") % 3).is_in(spec.groups))
    if tcol is None:
        return df
    keep = (c(tcol) >= spec.lo) & (c(tcol) < spec.as_of)
    if spec.prev is not None and kind == "orders":
        keep = keep | ((c(tcol) < spec.lo) & (_status(spec.prev) != _status(spec.as_of)))
    if spec.prev is not None and kind in LATER:
        changed = pl.any_horizontal([c(t).is_between(spec.prev, spec.as_of, closed="left") for t in LATER[kind]])
        keep = keep | ((c(tcol) < spec.lo) & changed)
    df = df.filter(keep)
    known = {t: pl.when(c(t) < spec.as_of).then(c(t)) for t in TIME_COLUMNS[kind][1:]}
    if kind == "orders":
        known["status"] = _status(spec.as_of)
    if kind == "complaints":  # the agreed time is known once the complaint is answered, however far ahead it is
        known["agreed_at"] = pl.when(c("responded_at") < spec.as_of).then(c("agreed_at"))
    if kind == "refunds":
        known["outcome"] = pl.when(c("completed_at") < spec.as_of).then(c("outcome")).otherwise(OPEN)
    if kind == "feedback":
        known["handled"] = (c("handled_at") < spec.as_of).fill_null(False).cast(pl.Int64)
    return df.with_columns(e.alias(t) for t, e in known.items())


def _format(kind: str, df: pl.DataFrame, spec: FileSpec) -> pl.DataFrame:
    """Canonical columns -> the strings (and headers) of the file's export dialect."""
    c = pl.col
    labels = spec.labels
    fmt = {"plain": "%Y-%m-%d %H:%M:%S", "slash": "%Y/%m/%d %H:%M:%S", "iso": "%Y-%m-%dT%H:%M:%S+08:00",
           "isoz": "%Y-%m-%dT%H:%M:%SZ", "isot": "%Y-%m-%dT%H:%M:%S"}
    exprs = {}
    for t in TIME_COLUMNS[kind]:
        shift = -8 * 3600 if spec.time == "isoz" else 0
        dt = pl.from_epoch(c(t) + EPOCH + shift, time_unit="s")
        exprs[t] = dt if spec.time == "excel" else dt.dt.strftime(fmt[spec.time])
    if kind == "messages":
        exprs["sender_role"] = _pick(ROLE.get(labels, ROLE["en"]), c("sender_role"))
    if kind == "ratings":
        exprs["level"] = (c("level").replace_strict(LEVEL_ZH, return_dtype=pl.String) if labels == "zh"
                          else c("level").cast(pl.String))
    if kind == "complaints":
        exprs["category"] = _pick(CATEGORY["zh" if labels.startswith("zh") else "en"], c("category"))
    if kind == "refunds":
        exprs["reason"] = _pick(_labels(REASON, labels), c("reason"))
        exprs["outcome"] = _pick(_labels(OUTCOME, labels), c("outcome"))
    if kind == "feedback":
        exprs["category"] = _pick(_labels(FEEDBACK_CATEGORY, labels), c("category"))
    for flag in FLAG:
        if flag in df.columns:
            exprs[flag] = _pick(_labels(FLAG[flag], labels), c(flag))
    if kind == "orders":
        exprs["amount"] = pl.format("{}.{}", c("amount") // 100, (c("amount") % 100).cast(pl.String).str.zfill(2))
        exprs["status"] = _pick(STATUS["api" if labels == "api" else "zh"], c("status"))
        exprs["title"] = _pick(PRODUCTS, c("order_id").str.slice(-3).cast(pl.Int64) % len(PRODUCTS))
    if kind == "targets":
        exprs["target_sales"] = pl.format("{}.00", c("target_sales"))
    out = df.select(exprs.get(col, c(col).cast(pl.String)).alias(col) for col in spec.columns)
    if spec.breaks and out.height:
        row = pl.int_range(pl.len())
        for i, (col, bad) in enumerate(spec.breaks):
            at = out.height * (i + 1) // (len(spec.breaks) + 1)
            out = out.with_columns(pl.when(row == at).then(pl.lit(bad, pl.String)).otherwise(c(col)).alias(col))
    if spec.headers != "en":
        out = out.rename(HEADERS[spec.headers].get(kind) or HEADERS["zh"][kind], strict=False)
    return out


def _labels(table: dict[str, tuple[str, ...]], labels: str) -> tuple[str, ...]:
    """A label dialect's labels; a dialect the table lacks falls back to the Chinese or the English one."""
    return table.get(labels) or table["zh" if labels.startswith("zh") else "en"]


def _showcase_files(shops: pl.DataFrame, cut: int) -> list[FileSpec]:
    """Group 0 (S001): canonical headers, session ids; 1 (S002): a Taobao-style Chinese export in two overlapping
    nights; 2 (S003): other Chinese headers and labels, GB18030 orders, ISO times, no message ids. Files are named
    after their group's shops."""
    ids = [shops.filter(pl.col("group") == g)["shop_id"].to_list() for g in range(3)]
    tag = ["_".join(i) if len(i) <= 3 else f"{i[0]}_and_{len(i) - 1}_more" for i in ids]
    main = cut // DAY
    h1 = -(-main // 2) + 1  # night 1: days 1..h1; night 2: days h1-1..main (two days in both)
    lo2 = (h1 - 2) * DAY
    zh_msg = tuple(k for k in COLUMNS["messages"] if k != "session_id")
    f = FileSpec
    specs = [
        f("messages_S001.csv.gz", "messages", COLUMNS["messages"], (0,), as_of=cut, breaks=SHOWCASE_BREAKS["messages"]),
        f("messages_S002_night1.csv", "messages", zh_msg, (1,), as_of=h1 * DAY, headers="zh", labels="zh",
          encoding="utf-8-sig"),
        f("messages_S002_night2.csv", "messages", zh_msg, (1,), lo=lo2, as_of=cut, headers="zh", labels="zh",
          encoding="utf-8-sig"),
        f("messages_S003.csv", "messages", tuple(HEADERS["zh2"]["messages"]), (2,), as_of=cut, headers="zh2",
          labels="zh2", time="iso", crlf=True, breaks=SHOWCASE_BREAKS["messages_zh2"]),
        f("ratings_S001.csv", "ratings", COLUMNS["ratings"], (0,), as_of=cut, breaks=SHOWCASE_BREAKS["ratings"]),
        f("ratings_S002.xlsx", "ratings", tuple(k for k in COLUMNS["ratings"] if k != "session_id"), (1,), as_of=cut,
          headers="zh", labels="zh", time="excel"),
        f("ratings_S003.csv", "ratings", tuple(k for k in COLUMNS["ratings"] if k != "session_id"), (2,), as_of=cut,
          headers="zh", labels="en", time="isoz"),
        f("orders_S001.csv", "orders", COLUMNS["orders"], (0,), as_of=cut, labels="api",
          breaks=SHOWCASE_BREAKS["orders"]),
        f("orders_S002_night1.csv", "orders", COLUMNS["orders"] + ("title",), (1,), as_of=h1 * DAY, headers="zh",
          labels="zh", time="slash"),
        f("orders_S002_night2.csv", "orders", COLUMNS["orders"] + ("title",), (1,), lo=lo2, as_of=cut, prev=h1 * DAY,
          headers="zh", labels="zh", time="slash"),
        f("orders_S003.csv", "orders", COLUMNS["orders"], (2,), as_of=cut, headers="zh", labels="zh", time="slash",
          encoding="gb18030"),
        f("complaints.csv", "complaints", COLUMNS["complaints"], as_of=cut, headers="zh", labels="zh"),
        f("reviews.csv", "reviews", COLUMNS["reviews"], as_of=cut, time="isot"),
        f("targets.csv", "targets", COLUMNS["targets"], headers="zh"),
        f("refunds_S001.csv", "refunds", COLUMNS["refunds"], (0,), as_of=cut, labels="api"),
        f("refunds_S002_night1.csv", "refunds", COLUMNS["refunds"], (1,), as_of=h1 * DAY, headers="zh", labels="zh",
          time="slash"),
        f("refunds_S002_night2.csv", "refunds", COLUMNS["refunds"], (1,), lo=lo2, as_of=cut, prev=h1 * DAY,
          headers="zh", labels="zh", time="slash"),
        f("refunds_S003.csv", "refunds", COLUMNS["refunds"], (2,), as_of=cut, headers="zh2", labels="zh2", time="iso",
          encoding="gb18030", crlf=True),
        f("disputes.xlsx", "disputes", COLUMNS["disputes"], as_of=cut, headers="zh", labels="zh", time="excel"),
        f("feedback.csv", "feedback", COLUMNS["feedback"], as_of=cut, labels="zh", encoding="utf-8-sig"),
        f("bot_answers.csv", "bot_answers", COLUMNS["bot_answers"], as_of=cut, headers="zh", labels="zh"),
    ]
    named = [spec if spec.groups is None else replace(spec, name=spec.name.replace(f"S00{spec.groups[0] + 1}",
                                                                                    tag[spec.groups[0]]))
             for spec in specs]
    return [spec for spec in named if spec.groups is None or ids[spec.groups[0]]]


def _bulk_files(days: int, cut: int, lo: int = 0, suffix: str | None = None, prev: int | None = None) -> list[FileSpec]:
    """Plain UTF-8 CSV with canonical headers; messages by week, shops with session ids (group 0) apart."""
    specs = []
    no_sid = tuple(k for k in COLUMNS["messages"] if k != "session_id")
    weeks = [(lo, cut)] if suffix else [(w, min(w + 7 * DAY, cut)) for w in range(lo, cut, 7 * DAY)]
    for a, b in weeks:
        tag = suffix or f"{(START + timedelta(seconds=a)):%m%d}-{(START + timedelta(seconds=b - 1)):%m%d}"
        specs.append(FileSpec(f"messages_a_{tag}.csv", "messages", COLUMNS["messages"], (0,), a, b, prev))
        specs.append(FileSpec(f"messages_b_{tag}.csv", "messages", no_sid, (1, 2), a, b, prev))
    for kind in ("ratings", "orders", "complaints", "reviews", "refunds", "disputes", "feedback", "bot_answers"):
        specs.append(FileSpec(f"{kind}_{suffix}.csv" if suffix else f"{kind}.csv", kind, COLUMNS[kind], None, lo, cut,
                              prev))
    if not suffix:
        specs.append(FileSpec("targets.csv", "targets", COLUMNS["targets"]))
    return specs


class _Writer:
    """Appends chunk after chunk to each file (the header once); counts the data rows written per kind."""

    def __init__(self, out: Path):
        self.out, self.files, self.rows = out, {}, Counter()

    def write(self, spec: FileSpec, df: pl.DataFrame) -> None:
        self.rows[spec.kind] += df.height
        path = self.out / spec.name
        if spec.name.endswith(".xlsx"):
            return _write_xlsx(path, df, SHEETS[spec.kind])
        first = spec.name not in self.files
        if first:
            raw = open(path, "wb")
            fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if spec.name.endswith(".gz") else raw
            self.files[spec.name] = (fh, raw)
            if spec.encoding == "utf-8-sig":
                fh.write("\ufeff".encode())
        text = df.write_csv(include_header=first, line_terminator="\r\n" if spec.crlf else "\n")
        self.files[spec.name][0].write(text.encode("gb18030" if spec.encoding == "gb18030" else "utf-8"))

    def close(self) -> None:
        for fh, raw in self.files.values():
            fh.close()
            raw.close()


SHEETS = {"ratings": "满意度评价", "disputes": "纠纷记录"}  # the sheet name of an XLSX export


def _write_xlsx(path: Path, df: pl.DataFrame, sheet: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 11, 28), "author": "cskpi sample"})
    ws = wb.add_worksheet(sheet)
    time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.write_row(0, 0, df.columns)
    for r, row in enumerate(df.iter_rows(), start=1):
        for col, v in enumerate(row):
            if isinstance(v, datetime):
                ws.write_datetime(r, col, v, time_fmt)
            elif v is not None:
                ws.write_string(r, col, v)
    wb.close()


# ---------------------------------------------------------------- entry point

def generate(out: Path, messages: int, shops: int | None = None, days: int | None = None, seed: int = 7, *,
             showcase: bool | None = None, split_last_day: bool = False) -> dict[str, int]:
    """Write the exports of `shops` shops over `days` days from 2026-11-01, about `messages` chat messages in all,
    into `out`; return the data rows written per kind (rows in two overlapping files count twice).

    showcase (default: messages <= 200,000) writes the varied dialects, overlaps and broken rows of `sample_data/`;
    split_last_day writes the last day into separate `*_nextday.csv` files (the next night's export)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    showcase = messages <= 200_000 if showcase is None else showcase
    days = days or DEFAULT_DAYS
    shops = shops or (3 if showcase else max(3, round(messages / 13_333)))
    if split_last_day and days < 2:
        raise ValueError("split_last_day needs at least 2 days")
    end = days * DAY
    cut = end - DAY if split_last_day else end
    shop_df = _shops(shops, messages, days, seed, showcase)
    specs = _showcase_files(shop_df, cut) if showcase else _bulk_files(days, cut)
    if split_last_day:
        specs += _bulk_files(days, end, lo=cut, suffix="nextday", prev=cut)
    writer = _Writer(out)
    try:
        for chunk in _chunks(shop_df, showcase):
            frames = _simulate(chunk, days, seed, showcase)
            for spec in specs:
                writer.write(spec, _format(spec.kind, _window(spec.kind, frames[spec.kind], spec), spec))
    finally:
        writer.close()
    return {kind: writer.rows[kind] for kind in COLUMNS}
