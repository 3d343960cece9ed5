"""Built-in source layouts that need more than a header mapping: a profile turns the raw frame of a file into
one with canonical headers (still text) that the normalise stage takes like any other export.

A profile gets the read stage's frame (text columns named by the file's header, `_line`, `_error`) and returns,
row for row and in the same order, the canonical columns of the kind as text plus `_line` and `_error` unchanged.
It never drops or adds a row: a row it cannot map comes out with nulls (or its raw text) where the mapping failed,
and the normalise stage rejects it with its line.

Profiles
--------
`twcs` (messages) — Kaggle "Customer Support on Twitter" (`twcs.csv`): `tweet_id, author_id, inbound, created_at,
text, response_tweet_id, in_response_to_tweet_id` (plus pandas' unnamed index column, ignored).

- A tweet is a message: message_id = tweet_id, content = text, sent_at = created_at
  ("Tue Oct 31 22:10:47 +0000 2017") as ISO 8601 with offset ("2017-10-31T22:10:47+00:00"; a created_at that does
  not parse is passed through as written, so it is rejected as "not a timestamp" with its raw text).
- inbound True → sender_role customer; inbound False → a company account's tweet: sender_role agent (a human agent)
  and agent_id = the company's author_id. Any other inbound text is passed through (rejected as an unknown role).
- A thread is a session: session_id = the root tweet_id of the reply chain. The chain follows
  in_response_to_tweet_id ("3.0" means tweet 3) until a tweet that replies to nothing, or whose parent is not in
  the file (many parents are outside a sample): that tweet is the root. Resolution is pointer jumping with polars
  self-joins. A reply cycle (impossible on Twitter, handled anyway) is one thread named by its smallest tweet_id
  (compared as text).
- shop_id (every tweet of a thread): the company account that tweets in the thread when there is exactly one.
  Otherwise (no company tweet, or several companies): the account addressed by the first @mention of the root
  tweet's text when it is a company account seen in the file (matched ignoring case, written as the company
  writes it); failing that, with several companies, the author of the thread's first company tweet. A thread with
  no company tweet whose root addresses no known company has no shop: its rows are rejected (missing shop_id).
- customer_id (every tweet of a thread, company tweets too): the author of the thread's first inbound tweet. A
  thread without an inbound tweet (a company reply whose customer tweet is outside the sample): the account the
  thread's first company tweet addresses with its first @mention, when that is not a company; else none (rejected).
- "First" in a thread means by created_at, then by tweet_id (numerically); unparseable times come last.
- A company is an author_id with at least one tweet with inbound False anywhere in the file.
- A row that is structurally broken (`_error`) or has no tweet_id takes no part in any thread and comes out with
  no session, shop or customer (the normalise stage rejects it). A tweet_id that appears twice is one node of the
  thread graph (the first row's parent counts); its second row lands as a duplicate message.

The thread graph needs the whole file: the profile collects the few columns it needs (not the text) once, resolves
the threads, and joins the result back to the lazy frame by tweet_id.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl

from .encoding import ReadError

_TEXT = pl.String
_MESSAGE_COLUMNS = ("message_id", "session_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at",
                    "content")
_NULL = pl.lit(None, _TEXT)

# --- twcs ----------------------------------------------------------------------------------------------------------

_TWCS_COLUMNS = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
_TWCS_TIME = "%a %b %d %H:%M:%S %z %Y"  # Tue Oct 31 22:10:47 +0000 2017
_HANDLE = r"@([A-Za-z0-9_]+)"


def _blank_to_null(e: pl.Expr) -> pl.Expr:
    e = e.str.strip_chars()
    return pl.when(e != "").then(e).otherwise(_NULL)


def _resolve_roots(nodes: pl.DataFrame) -> pl.DataFrame:
    """nodes: unique `node` ids with `parent` (null, or a node of the frame) → `node`, `root`.

    Pointer jumping: after round r, `nxt` is the node 2^r steps up the chain (a root points to itself) and `low`
    the smallest id on the 2^r steps from the node. Trees settle when every pointer is a root; a cycle never
    settles, but once 2^r ≥ n every pointer lies on its cycle, whose nodes all see the same smallest id."""
    frame = nodes.select(
        "node",
        pl.coalesce("parent", "node").alias("nxt"),
        pl.col("node").alias("low"),
    )
    for _ in range(max(1, math.ceil(math.log2(max(frame.height, 2)))) + 1):
        step = frame.select(pl.col("node").alias("nxt"), pl.col("nxt").alias("nxt2"), pl.col("low").alias("low2"))
        jumped = frame.join(step, on="nxt", how="left", maintain_order="left").select(
            "node",
            pl.col("nxt2").alias("nxt"),
            pl.min_horizontal("low", "low2").alias("low"),
        )
        settled = jumped["nxt"].equals(frame["nxt"]) and jumped["low"].equals(frame["low"])
        frame = jumped
        if settled:
            break
    at = frame.select(pl.col("node").alias("nxt"), pl.col("low").alias("root"))
    return frame.join(at, on="nxt", how="left", maintain_order="left").select("node", "root")


def _first_by_time(frame: pl.DataFrame, where: pl.Expr, value: str, name: str) -> pl.DataFrame:
    """Per thread, `value` of its first row (by time, then numeric tweet id, then id text) satisfying `where`."""
    return (
        frame.filter(where)
        .sort("at", "id_number", "node", nulls_last=True)
        .group_by("root", maintain_order=True)
        .agg(pl.col(value).first().alias(name))
    )


def _twcs_threads(nodes: pl.DataFrame) -> pl.DataFrame:
    """One row per tweet id (first row of each id): node → session_id, shop_id, customer_id."""
    nodes = nodes.unique("node", keep="first", maintain_order=True)
    known = nodes["node"].implode()
    nodes = nodes.with_columns(
        pl.when(pl.col("parent").is_in(known) & (pl.col("parent") != pl.col("node")))
        .then(pl.col("parent")).otherwise(_NULL).alias("parent")
    )
    frame = nodes.join(_resolve_roots(nodes.select("node", "parent")), on="node", how="left", maintain_order="left")

    companies = (
        frame.filter(pl.col("is_company")).select(pl.col("author").alias("company"),
                                                  pl.col("author").str.to_lowercase().alias("handle"))
        .drop_nulls().unique("handle", keep="first", maintain_order=True)
    )
    per_thread = frame.filter(pl.col("is_company")).group_by("root").agg(
        pl.col("author").drop_nulls().unique().alias("companies"))
    root_mention = (
        frame.filter(pl.col("node") == pl.col("root"))
        .select("root", pl.col("mention").str.to_lowercase().alias("handle"))
        .join(companies, on="handle", how="inner")
        .select("root", pl.col("company").alias("mentioned"))
    )
    first_company = _first_by_time(frame, pl.col("is_company"), "author", "first_company")
    first_customer = _first_by_time(frame, pl.col("is_customer"), "author", "first_customer")
    addressed = (
        _first_by_time(frame, pl.col("is_company"), "mention", "addressed")
        .with_columns(pl.col("addressed").str.to_lowercase().alias("handle"))
        .join(companies, on="handle", how="left")
        .select("root", pl.when(pl.col("company").is_null()).then(pl.col("addressed")).alias("addressed"))
    )
    threads = (
        frame.select("root").unique()
        .join(per_thread, on="root", how="left")
        .join(root_mention, on="root", how="left")
        .join(first_company, on="root", how="left")
        .join(first_customer, on="root", how="left")
        .join(addressed, on="root", how="left")
        .select(
            "root",
            pl.when(pl.col("companies").list.len() == 1).then(pl.col("companies").list.first())
            .otherwise(pl.coalesce("mentioned", "first_company")).alias("shop_id"),
            pl.coalesce("first_customer", "addressed").alias("customer_id"),
        )
    )
    return frame.select("node", "root").join(threads, on="root", how="left").select(
        "node", pl.col("root").alias("session_id"), "shop_id", "customer_id")


def _twcs_messages(frame: pl.LazyFrame) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    by_name = {n.strip().lower(): n for n in names if n not in ("_line", "_error")}
    if not by_name:  # a 0-byte file: no header, no rows
        return frame.select(*(_NULL.alias(c) for c in _MESSAGE_COLUMNS), "_line", "_error")
    missing = [c for c in _TWCS_COLUMNS if c not in by_name]
    if missing:
        raise ReadError(None, f"profile twcs: missing column(s) {', '.join(missing)} "
                              f"(headers found: {', '.join(n for n in names if not n.startswith('_')) or 'none'})")

    def col(name: str) -> pl.Expr:
        return pl.col(by_name[name])

    tweet = _blank_to_null(col("tweet_id"))
    author = _blank_to_null(col("author_id"))
    inbound = col("inbound").str.strip_chars().str.to_lowercase()
    created = col("created_at").str.strip_chars()
    at = created.str.to_datetime(_TWCS_TIME, strict=False, time_unit="us")
    # Tweet ids of pandas' float column: "3.0" → "3".
    parent = _blank_to_null(col("in_response_to_tweet_id")).str.replace(r"^(\d+)\.0*$", "${1}")
    in_graph = pl.col("_error").is_null() & tweet.is_not_null()
    key = "__twcs_node"

    nodes = frame.filter(in_graph).select(
        tweet.alias("node"),
        parent.alias("parent"),
        author.alias("author"),
        (inbound == "false").alias("is_company"),
        (inbound == "true").alias("is_customer"),
        at.alias("at"),
        tweet.cast(pl.Int64, strict=False).alias("id_number"),
        col("text").str.extract(_HANDLE, 1).alias("mention"),
    ).collect()
    threads = _twcs_threads(nodes).rename({"node": key}).lazy()

    role = pl.when(inbound == "true").then(pl.lit("customer")).when(inbound == "false").then(pl.lit("agent"))
    return (
        frame.with_columns(pl.when(in_graph).then(tweet).otherwise(_NULL).alias(key))
        .join(threads, on=key, how="left", maintain_order="left")
        .select(
            tweet.alias("message_id"),
            pl.col("session_id"),
            pl.col("shop_id"),
            pl.col("customer_id"),
            pl.when(inbound == "false").then(author).otherwise(_NULL).alias("agent_id"),
            role.otherwise(col("inbound")).alias("sender_role"),
            pl.coalesce(at.dt.to_string("%Y-%m-%dT%H:%M:%S%:z"), col("created_at")).alias("sent_at"),
            col("text").alias("content"),
            pl.col("_line"),
            pl.col("_error"),
        )
    )


PROFILES: dict[str, dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]]] = {
    "twcs": {"messages": _twcs_messages},
}


def apply_profile(name: str, kind: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    try:
        transforms = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES) or 'none'}") from None
    if kind not in transforms:
        raise ValueError(f"profile {name!r} has no layout for kind {kind!r}")
    return transforms[kind](frame)
