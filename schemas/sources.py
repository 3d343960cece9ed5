"""The lake's tables as landed: typed canonical columns (SPEC §1.1) plus lineage (_key, _line, _seq)."""
import polars as pl
import pandera.polars as pa

TS = pl.Datetime("us")
ROLES = ["customer", "agent", "bot", "system"]


class Landed(pa.DataFrameModel):
    """Lineage every landed row carries: its duplicate key, its line in the source file and the file's sequence."""

    # pandera skips attributes that start with "_": the lineage columns are declared through aliases.
    key: str = pa.Field(alias="_key")
    line: pl.Int64 = pa.Field(alias="_line", ge=1)
    seq: pl.Int64 = pa.Field(alias="_seq", ge=1)

    class Config:
        strict = True
        coerce = False


class Messages(Landed):
    message_id: str = pa.Field(nullable=True)
    session_id: str = pa.Field(nullable=True)
    shop_id: str
    customer_id: str
    agent_id: str = pa.Field(nullable=True)
    sender_role: str = pa.Field(isin=ROLES)
    sent_at: TS
    content: str = pa.Field(nullable=True)


class Ratings(Landed):
    rating_id: str = pa.Field(nullable=True)
    shop_id: str
    rated_at: TS
    level: pl.Int32 = pa.Field(in_range={"min_value": 1, "max_value": 5})
    session_id: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)
    agent_id: str = pa.Field(nullable=True)


class Orders(Landed):
    order_id: str
    shop_id: str
    customer_id: str
    created_at: TS
    paid_at: TS = pa.Field(nullable=True)
    amount: pl.Float64 = pa.Field(nullable=True, ge=0)
    status: str = pa.Field(nullable=True)


class Complaints(Landed):
    complaint_id: str
    shop_id: str
    created_at: TS
    customer_id: str = pa.Field(nullable=True)
    order_id: str = pa.Field(nullable=True)
    category: str = pa.Field(nullable=True)
    responded_at: TS = pa.Field(nullable=True)
    resolved_at: TS = pa.Field(nullable=True)
    agreed_at: TS = pa.Field(nullable=True)


class Reviews(Landed):
    review_id: str
    shop_id: str
    created_at: TS
    rating: pl.Int32 = pa.Field(in_range={"min_value": 1, "max_value": 5})
    order_id: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)


class Targets(Landed):
    shop_id: str
    period: str = pa.Field(str_matches=r"^\d{4}(-\d{2}(-\d{2})?|-W\d{2}|-Q[1-4])?$")
    grain: str = pa.Field(isin=["day", "week", "month", "quarter", "year"])
    period_start: pl.Date
    target_sales: pl.Float64 = pa.Field(ge=0)


class Refunds(Landed):
    refund_id: str
    shop_id: str
    requested_at: TS
    completed_at: TS = pa.Field(nullable=True)
    order_id: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)
    reason: str = pa.Field(nullable=True)
    outcome: str = pa.Field(nullable=True)

    @pa.dataframe_check
    def completed_after_request(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("completed_at").is_null() | (pl.col("completed_at") >= pl.col("requested_at")))


class Disputes(Landed):
    dispute_id: str
    shop_id: str
    opened_at: TS
    closed_at: TS = pa.Field(nullable=True)
    platform_involved: bool = pa.Field(nullable=True)
    order_id: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)


class Feedback(Landed):
    feedback_id: str
    shop_id: str
    received_at: TS
    handled_at: TS = pa.Field(nullable=True)
    handled: bool = pa.Field(nullable=True)
    category: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)


class BotAnswers(Landed):
    answer_id: str = pa.Field(nullable=True)
    shop_id: str
    answered_at: TS
    intent_correct: bool
    answer_correct: bool
    session_id: str = pa.Field(nullable=True)
    customer_id: str = pa.Field(nullable=True)
    question: str = pa.Field(nullable=True)


class Rejects(pa.DataFrameModel):
    kind: str
    file: str
    line: pl.Int64 = pa.Field(ge=1)
    column: str = pa.Field(nullable=True)
    reason: str
    raw_value: str = pa.Field(nullable=True)
    seq: pl.Int64 = pa.Field(alias="_seq", ge=1)

    class Config:
        strict = True
