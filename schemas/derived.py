"""Derived tables (SPEC §2) and the published KPI table (SPEC §6)."""
import polars as pl
import pandera.polars as pa

from ..kpis import CLOCKS, KPI_CODES, PERCENTILES

TS = pl.Datetime("us")
GRAINS = ["day", "week", "month", "quarter", "year"]
KPIS = list(KPI_CODES)
BANDS = ["AAAAA", "AAAA", "AAA", "below", "pass", "fail", "no_data", "unrated"]


class Sessions(pa.DataFrameModel):
    shop_id: str
    session_id: str
    customer_id: str
    started_at: TS
    ended_at: TS
    started_on: pl.Date
    messages: pl.Int64 = pa.Field(ge=1)
    is_inquiry: bool
    agent_id: str = pa.Field(nullable=True)
    first_customer_at: TS = pa.Field(nullable=True)
    first_agent_at: TS = pa.Field(nullable=True)
    replied: bool
    frt_seconds: pl.Float64 = pa.Field(nullable=True, ge=0)
    frt_service_seconds: pl.Float64 = pa.Field(nullable=True, ge=0)
    session_no: pl.Int64 = pa.Field(nullable=True, ge=1)
    last_customer_at: TS = pa.Field(nullable=True)
    last_agent_at: TS = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["shop_id", "session_id"]


class Turns(pa.DataFrameModel):
    shop_id: str
    session_id: str
    turn_no: pl.Int64 = pa.Field(ge=1)
    started_on: pl.Date
    started_at: TS
    answered_at: TS = pa.Field(nullable=True)
    agent_id: str = pa.Field(nullable=True)
    response_seconds: pl.Float64 = pa.Field(nullable=True, ge=0)
    response_service_seconds: pl.Float64 = pa.Field(nullable=True, ge=0)

    class Config:
        strict = True
        unique = ["shop_id", "session_id", "turn_no"]


class Conversions(pa.DataFrameModel):
    order_id: str
    shop_id: str
    customer_id: str
    paid_at: TS
    amount: pl.Float64 = pa.Field(nullable=True)
    session_id: str
    session_started_at: TS

    class Config:
        strict = True
        # A table-wide key (checked over every day file at once), not a column check, which pandera would run
        # within each validated slice only.
        unique = ["order_id"]


class Kpi(pa.DataFrameModel):
    """The `kpi` view and every export: exactly the columns of SPEC §6."""

    grain: str = pa.Field(isin=GRAINS)
    period: str
    period_start: pl.Date
    shop_id: str
    agent_id: str = pa.Field(nullable=True)
    kpi: str = pa.Field(isin=KPIS)
    value: pl.Float64 = pa.Field(nullable=True, ge=0)
    numerator: pl.Float64 = pa.Field(nullable=True, ge=0)  # null for a percentile
    denominator: pl.Float64 = pa.Field(nullable=True, ge=0)  # null for a count (dispute_count)
    band: str = pa.Field(isin=BANDS)
    provisional: bool
    clock: str = pa.Field(isin=list(CLOCKS))

    class Config:
        strict = True
        unique = ["grain", "period", "shop_id", "agent_id", "kpi", "clock"]

    @pa.dataframe_check
    def no_value_without_denominator(cls, data) -> pl.LazyFrame:
        lf = data.lazyframe
        has_value = pl.when(pl.col("denominator").is_null()).then(pl.col("numerator").is_not_null()) \
            .otherwise(pl.col("denominator") > 0)
        return lf.select(has_value == pl.col("value").is_not_null())

    @pa.dataframe_check
    def ratios_have_a_numerator(cls, data) -> pl.LazyFrame:
        percentile = pl.col("kpi").is_in(list(PERCENTILES))
        return data.lazyframe.select(percentile | pl.col("numerator").is_not_null())

    @pa.dataframe_check
    def no_data_band_iff_no_value(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("band") == "no_data") == pl.col("value").is_null())


class _FactSums(pa.DataFrameModel):
    """Sums of every additive KPI's facts (sql/kpi_facts.sql)."""

    kpi: str = pa.Field(isin=KPIS)
    clock: str = pa.Field(isin=list(CLOCKS))
    shop_id: str
    agent_id: str = pa.Field(nullable=True)
    numerator: pl.Float64 = pa.Field(ge=0)
    denominator: pl.Float64 = pa.Field(nullable=True, ge=0)  # null for dispute_count and a day's sales


class KpiFacts(_FactSums):
    """kpi_facts: the sums per day."""

    on_date: pl.Date

    class Config:
        strict = True
        unique = ["kpi", "clock", "shop_id", "agent_id", "on_date"]


class KpiMonthFacts(_FactSums):
    """kpi_month_facts: the day sums summed per calendar month (sql/kpi_month_facts.sql)."""

    month_start: pl.Date

    class Config:
        strict = True
        unique = ["kpi", "clock", "shop_id", "agent_id", "month_start"]


class _ResponseTimeCounts(pa.DataFrameModel):
    """How many measured response times took each exact number of seconds (sql/kpi_histograms.sql)."""

    family: str = pa.Field(isin=["frt", "response"])
    clock: str = pa.Field(isin=list(CLOCKS))
    shop_id: str
    agent_id: str = pa.Field(nullable=True)
    seconds: pl.Float64 = pa.Field(ge=0)
    observations: pl.Float64 = pa.Field(ge=1)


class KpiHistograms(_ResponseTimeCounts):
    """kpi_histograms: the counts per day."""

    on_date: pl.Date

    class Config:
        strict = True
        unique = ["family", "clock", "shop_id", "agent_id", "on_date", "seconds"]


class KpiMonthHistograms(_ResponseTimeCounts):
    """kpi_month_histograms: the counts per calendar month (sql/kpi_month_histograms.sql)."""

    month_start: pl.Date

    class Config:
        strict = True
        unique = ["family", "clock", "shop_id", "agent_id", "month_start", "seconds"]

    @pa.check("month_start")
    def first_of_a_month(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).dt.day() == 1)
