"""The source kinds of SPEC §1.1: their columns, value types, duplicate keys and header aliases.

Every stage reads this one registry; nothing else names a kind's columns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ValueType = Literal["string", "timestamp", "int", "decimal", "role", "level", "category", "stars", "period",
                    "flag", "reason"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ValueType = "string"
    required: bool = False
    not_before: str | None = None  # a timestamp column this one may not precede (the row is refused)


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # "first": the first arrival of a key stays (messages, ratings, reviews);
    # "last": a later arrival replaces it (orders, complaints, targets: an order gets paid later).
    keep: Literal["first", "last"]
    # Header aliases of Chinese platform exports: alias -> canonical name (SPEC §1.2 table, plus common variants).
    aliases: dict[str, str] = field(default_factory=dict)
    # The time column that places a row in a period (None for targets).
    time_column: str | None = None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type: ValueType = "string", required: bool = False, not_before: str | None = None) -> Column:
    return Column(name, type, required, not_before)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "messages",
            (
                _c("message_id"),
                _c("session_id"),
                _c("shop_id", required=True),
                _c("customer_id", required=True),
                _c("agent_id"),
                _c("sender_role", "role", required=True),
                _c("sent_at", "timestamp", required=True),
                _c("content"),
            ),
            key=("message_id",),
            keep="first",
            time_column="sent_at",
            aliases={
                "消息ID": "message_id", "消息编号": "message_id",
                "会话ID": "session_id", "会话编号": "session_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id", "店铺": "shop_id", "店铺名称": "shop_id",
                "顾客ID": "customer_id", "买家昵称": "customer_id", "买家会员名": "customer_id",
                "买家ID": "customer_id", "客户ID": "customer_id", "用户ID": "customer_id",
                "客服ID": "agent_id", "客服账号": "agent_id", "客服昵称": "agent_id", "接待客服": "agent_id",
                "发送方": "sender_role", "发送者角色": "sender_role", "发送人角色": "sender_role",
                "发送时间": "sent_at", "消息时间": "sent_at", "时间": "sent_at",
                "消息内容": "content", "内容": "content", "聊天内容": "content",
            },
        ),
        Kind(
            "ratings",
            (
                _c("rating_id"),
                _c("shop_id", required=True),
                _c("rated_at", "timestamp", required=True),
                _c("level", "level", required=True),
                _c("session_id"),
                _c("customer_id"),
                _c("agent_id"),
            ),
            key=("rating_id",),
            keep="first",
            time_column="rated_at",
            aliases={
                "评价ID": "rating_id", "评价编号": "rating_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "会话ID": "session_id", "会话编号": "session_id",
                "顾客ID": "customer_id", "买家昵称": "customer_id", "买家会员名": "customer_id",
                "客服ID": "agent_id", "客服账号": "agent_id",
                "评价时间": "rated_at", "满意度": "level", "满意度评价": "level", "评价结果": "level",
            },
        ),
        Kind(
            "orders",
            (
                _c("order_id", required=True),
                _c("shop_id", required=True),
                _c("customer_id", required=True),
                _c("created_at", "timestamp", required=True),
                _c("paid_at", "timestamp"),
                _c("amount", "decimal"),
                _c("status"),
            ),
            key=("order_id",),
            keep="last",
            time_column="created_at",
            aliases={
                "订单编号": "order_id", "订单号": "order_id", "订单ID": "order_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "买家会员名": "customer_id", "买家昵称": "customer_id", "顾客ID": "customer_id", "买家ID": "customer_id",
                "订单创建时间": "created_at", "下单时间": "created_at",
                "订单付款时间": "paid_at", "付款时间": "paid_at", "支付时间": "paid_at",
                "买家实际支付金额": "amount", "实付金额": "amount", "订单金额": "amount", "支付金额": "amount",
                "订单状态": "status",
            },
        ),
        Kind(
            "complaints",
            (
                _c("complaint_id", required=True),
                _c("shop_id", required=True),
                _c("created_at", "timestamp", required=True),
                _c("customer_id"),
                _c("order_id"),
                _c("category", "category"),
                _c("responded_at", "timestamp"),
                _c("resolved_at", "timestamp"),
                _c("agreed_at", "timestamp"),
            ),
            key=("complaint_id",),
            keep="last",
            time_column="created_at",
            aliases={
                "投诉编号": "complaint_id", "投诉ID": "complaint_id", "投诉单号": "complaint_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
                "订单编号": "order_id", "订单号": "order_id",
                "投诉类型": "category", "投诉类别": "category",
                "投诉时间": "created_at", "首次反馈时间": "responded_at", "首次响应时间": "responded_at",
                "解决时间": "resolved_at", "处理完成时间": "resolved_at", "方案反馈时间": "resolved_at",
                "约定时间": "agreed_at", "约定沟通时间": "agreed_at", "约定反馈时间": "agreed_at",
            },
        ),
        Kind(
            "reviews",
            (
                _c("review_id", required=True),
                _c("shop_id", required=True),
                _c("created_at", "timestamp", required=True),
                _c("rating", "stars", required=True),
                _c("order_id"),
                _c("customer_id"),
            ),
            key=("review_id",),
            keep="first",
            time_column="created_at",
            aliases={
                "评价ID": "review_id", "评价编号": "review_id", "评论ID": "review_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "订单编号": "order_id", "订单号": "order_id",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
                "评价时间": "created_at", "评论时间": "created_at",
                "评分": "rating", "星级": "rating", "商品评分": "rating",
            },
        ),
        Kind(
            "targets",
            (
                _c("shop_id", required=True),
                _c("period", "period", required=True),
                _c("target_sales", "decimal", required=True),
            ),
            key=("shop_id", "period"),
            keep="last",
            aliases={
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "考核周期": "period", "周期": "period",
                "目标销售额": "target_sales", "计划目标销售额": "target_sales", "目标金额": "target_sales",
            },
        ),
        Kind(
            "refunds",
            (
                _c("refund_id", required=True),
                _c("shop_id", required=True),
                _c("requested_at", "timestamp", required=True),
                _c("completed_at", "timestamp", not_before="requested_at"),
                _c("order_id"),
                _c("customer_id"),
                _c("reason", "reason"),
                _c("outcome"),
            ),
            key=("refund_id",),
            keep="last",
            time_column="requested_at",
            aliases={
                "退款编号": "refund_id", "退款ID": "refund_id", "退款单号": "refund_id", "售后单号": "refund_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "申请时间": "requested_at", "退款申请时间": "requested_at", "买家申请退款时间": "requested_at",
                "完成时间": "completed_at", "退款完结时间": "completed_at", "退款完成时间": "completed_at",
                "订单编号": "order_id", "订单号": "order_id",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
                "退款原因": "reason", "退货原因": "reason", "售后原因": "reason",
                "退款结果": "outcome", "处理结果": "outcome", "退款状态": "outcome",
            },
        ),
        Kind(
            "disputes",
            (
                _c("dispute_id", required=True),
                _c("shop_id", required=True),
                _c("opened_at", "timestamp", required=True),
                _c("closed_at", "timestamp"),
                _c("platform_involved", "flag"),
                _c("order_id"),
                _c("customer_id"),
            ),
            key=("dispute_id",),
            keep="last",
            time_column="opened_at",
            aliases={
                "争议编号": "dispute_id", "纠纷编号": "dispute_id", "维权编号": "dispute_id", "争议ID": "dispute_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "发起时间": "opened_at", "争议发生时间": "opened_at", "纠纷发起时间": "opened_at",
                "结束时间": "closed_at", "争议结束时间": "closed_at", "纠纷完结时间": "closed_at",
                "平台介入": "platform_involved", "是否平台介入": "platform_involved", "平台是否介入": "platform_involved",
                "订单编号": "order_id", "订单号": "order_id",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
            },
        ),
        Kind(
            "feedback",
            (
                _c("feedback_id", required=True),
                _c("shop_id", required=True),
                _c("received_at", "timestamp", required=True),
                _c("handled_at", "timestamp"),
                _c("handled", "flag"),
                _c("category"),
                _c("customer_id"),
            ),
            key=("feedback_id",),
            keep="last",
            time_column="received_at",
            aliases={
                "反馈编号": "feedback_id", "反馈ID": "feedback_id", "建议编号": "feedback_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "反馈时间": "received_at", "接收时间": "received_at", "提交时间": "received_at",
                "处理时间": "handled_at", "处理完成时间": "handled_at",
                "是否处理": "handled", "处理状态": "handled",
                "反馈类型": "category", "反馈类别": "category", "反馈分类": "category",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
            },
        ),
        Kind(
            "bot_answers",
            (
                _c("answer_id"),
                _c("shop_id", required=True),
                _c("answered_at", "timestamp", required=True),
                _c("intent_correct", "flag", required=True),
                _c("answer_correct", "flag", required=True),
                _c("session_id"),
                _c("customer_id"),
                _c("question"),
            ),
            key=("answer_id",),
            keep="first",
            time_column="answered_at",
            aliases={
                "应答ID": "answer_id", "应答编号": "answer_id", "抽检编号": "answer_id", "记录ID": "answer_id",
                "店铺ID": "shop_id", "店铺编号": "shop_id",
                "应答时间": "answered_at", "回复时间": "answered_at",
                "意图识别正确": "intent_correct", "语义理解正确": "intent_correct", "意图是否正确": "intent_correct",
                "回复正确": "answer_correct", "答案正确": "answer_correct", "回复内容正确": "answer_correct",
                "答案是否正确": "answer_correct",
                "会话ID": "session_id", "会话编号": "session_id",
                "顾客ID": "customer_id", "买家会员名": "customer_id", "买家昵称": "customer_id",
                "顾客问题": "question", "问题": "question",
            },
        ),
    )
}

# Value labels of SPEC §1.1 (lower-cased English, Chinese as exported).
ROLE_LABELS = {
    "customer": "customer", "顾客": "customer", "买家": "customer", "客户": "customer",
    "agent": "agent", "客服": "agent", "卖家": "agent", "人工客服": "agent",
    "bot": "bot", "机器人": "bot", "智能客服": "bot", "自动回复": "bot",
    "system": "system", "系统": "system", "系统消息": "system",
}
LEVEL_LABELS = {"很满意": 5, "非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "很不满意": 1, "非常不满意": 1}
CATEGORY_LABELS = {
    "product": "product", "商品质量": "product", "商品": "product", "产品质量": "product",
    "service": "service", "服务质量": "service", "服务": "service",
}

# Refund reasons (5.4.3.2): seven-day no-reason return, quality problem, usage problem, other.
REASON_LABELS = {
    "no_reason_7d": "no_reason_7d", "七天无理由": "no_reason_7d", "7天无理由": "no_reason_7d",
    "七天无理由退货": "no_reason_7d", "7天无理由退货": "no_reason_7d", "七天无理由退换货": "no_reason_7d",
    "quality": "quality", "质量问题": "quality", "商品质量问题": "quality", "商品质量": "quality",
    "usage": "usage", "使用问题": "usage", "消费者使用问题": "usage",
    "other": "other", "其他": "other", "其它": "other",
}
# Yes/no columns (platform involved, handled, intent/answer correct), lower-cased.
FLAG_LABELS = {
    **dict.fromkeys(("true", "yes", "y", "1", "t", "是", "对", "正确", "已处理", "已介入", "介入", "有"), True),
    **dict.fromkeys(("false", "no", "n", "0", "f", "否", "错", "错误", "未处理", "未介入", "不介入", "无"), False),
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}; known kinds: {', '.join(KINDS)}") from None
