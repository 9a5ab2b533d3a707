"""What each KIND of file loads into: its table, key, columns with their types, and the rules a row must keep.

This mirrors `schema/schema.sql` (a test checks that it stays in step). Rules are the schema's CHECK
constraints plus the references that DuckDB does not enforce; ingest checks all of them before writing, so
the database never raises a constraint error at the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from egov_metrics import vocab
from egov_metrics.errors import UnknownNameError
from egov_metrics.i18n import Said


@dataclass(frozen=True)
class Column:
    """One canonical column of a target table."""

    name: str
    #: A key of the parser registry (`parsers.PARSERS`): text, tthc_code, enum, bool, int, double, timestamp, date.
    type: str
    #: NOT NULL without a schema default: a row without a value is rejected.
    required: bool = False
    #: The schema default as a SQL literal; used for new rows when the file has no value.
    default: str | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    #: A date without a time (or with time 00:00:00) means the end of that day (23:59:59), not its start.
    day_end: bool = False
    #: What a value of this column looks like, for the reason of a value that cannot be read (default: the
    #: type's own wording).
    expected: Said | None = None
    #: Another column whose value is used when this one is empty (e.g. name_en falls back to name_vi).
    fallback: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule across columns. `violation` is SQL over canonical column names, TRUE when the row breaks it."""

    column: str
    violation: str
    reason: Said


@dataclass(frozen=True)
class Reference:
    """A column whose value is looked up in another table (`resolver` names how, see `sql.RESOLVERS`).

    The stored value is what the lookup found (e.g. a unit's id for its code). A value that is not found
    rejects the row with `reason`; with `keep_unknown` it is stored as it is instead.
    """

    column: str
    resolver: str
    reason: Said = field(default_factory=lambda: Said("", ""))
    keep_unknown: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    default_mapping: str
    rules: tuple[Rule, ...] = ()
    references: tuple[Reference, ...] = ()
    #: Steps run after the upsert, by name (see `load.AFTER_LOAD`).
    after_load: tuple[str, ...] = ()
    #: Columns linking a row to another row of the same table (parent, successor): a chain that comes back
    #: to where it started is rejected with the cycle named (`sql.reject_cycles`).
    no_cycles: tuple[str, ...] = ()
    #: Columns whose cell holding a total label ("Tổng cộng", "Cộng LGSP") makes the row a total row even when
    #: its key cell is filled in (the subtotal of a day and platform in an exchange report): skipped and
    #: reported, never loaded as a value (a system called "Cộng LGSP" would count the platform twice).
    total_label_columns: tuple[str, ...] = ()
    #: A column naming the row that takes over when this one's validity ends (`valid_to`): that row must be
    #: valid on that day (`sql.reject_invalid_successors`), else a day would have no unit at all.
    successor: str | None = None
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    #: What a file of this kind holds, as the Vietnamese ingest summary names it ("tệp hồ sơ"); default: `name`.
    name_vi: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _text(name: str, **kw: object) -> Column:
    return Column(name, "text", **kw)  # type: ignore[arg-type]


def _flag(name: str) -> Column:
    return Column(name, "bool", default="false")


#: A date outside [2000-01-01, the ingest's day + a margin] is a typo or a swapped day and month, never a
#: real record; one such row would otherwise stretch every period and working-day index past the calendar.
#: `{margin}` is the mapping's `future_margin_days` (default 1), filled in by `sql._rule_problems`.
EARLIEST_RECEIVED = "2000-01-01"
EARLIEST_DAY = "01/01/2000"  # the same day, as the Vietnamese reasons write it
#: An appointment more than this many years after the receipt is a typo (2205 for 2025).
MAX_DUE_YEARS = 3


#: The event columns' names in the reasons of the date rules.
WHAT = {
    "received": Said("ngày tiếp nhận", "received"),
    "finished": Said("ngày kết thúc xử lý", "finished"),
    "returned": Said("ngày trả kết quả", "returned"),
    "synced": Said("ngày đồng bộ", "synced"),
    "handled": Said("ngày xử lý xong", "handled"),
}


def _in_window(column: str, what: str) -> tuple[Rule, ...]:
    """The plausible-date window of an event column (received, finished, returned, handled, synced)."""
    name = WHAT[what]
    return (
        Rule(
            column,
            f"{column} < TIMESTAMP '{EARLIEST_RECEIVED}'",
            Said(
                f"{name.vi} trước ngày {EARLIEST_DAY}: kiểm tra lại năm",
                f"{name.en} before {EARLIEST_RECEIVED}: check the year",
            ),
        ),
        Rule(
            column,
            f"{column} > localtimestamp + INTERVAL {{margin}} DAY",
            Said(
                f"{name.vi} ở tương lai (quá {{margin}} ngày sau hôm nay): kiểm tra lại năm và định dạng ngày "
                "(dd/mm/yyyy); muốn chấp nhận xa hơn, đặt future_margin_days trong tệp ánh xạ cột",
                f"{name.en} in the future (more than {{margin}} day(s) after now): check the year and the date "
                "format (dd/mm/yyyy); a mapping's future_margin_days allows more",
            ),
        ),
    )


def _due_window(column: str = "due_at") -> tuple[Rule, ...]:
    return (
        Rule(
            column,
            f"{column} < TIMESTAMP '{EARLIEST_RECEIVED}'",
            Said(
                f"ngày hẹn trả trước ngày {EARLIEST_DAY}: kiểm tra lại năm",
                f"due before {EARLIEST_RECEIVED}: check the year",
            ),
        ),
        Rule(
            column,
            f"{column} > received_at + INTERVAL {MAX_DUE_YEARS} YEAR",
            Said(
                f"ngày hẹn trả sau ngày tiếp nhận hơn {MAX_DUE_YEARS} năm: kiểm tra lại năm",
                f"due more than {MAX_DUE_YEARS} years after received: check the year",
            ),
        ),
    )


RECEIVED_IN_RANGE = _in_window("received_at", "received")
#: "<event> before received", for the event columns.
BEFORE_RECEIVED = {
    what: Said(f"{name.vi} trước ngày tiếp nhận", f"{name.en} before received")
    for what, name in WHAT.items()
    if what != "received"
}
DUE_BEFORE_RECEIVED = Said("ngày hẹn trả trước ngày tiếp nhận", "due before received")
UNKNOWN_UNIT = Said("mã đơn vị không có trong danh mục đơn vị", "unknown unit code")


DOSSIER = Kind(
    name="dossier",
    name_vi="hồ sơ",
    table="dossier",
    key=("id",),
    default_mapping="one_stop_vi",
    description="dossiers (hồ sơ) exported from the one-stop system",
    columns=(
        _text("id", required=True),
        Column("procedure_code", "tthc_code", required=True),
        _text("unit_id", required=True),
        Column(
            "channel",
            "enum",
            required=True,
            choices=tuple(vocab.CHANNELS),
        ),
        Column(
            "applicant_type",
            "enum",
            default="'citizen'",
            choices=tuple(vocab.APPLICANT_TYPES),
        ),
        Column("received_at", "timestamp", required=True),
        Column("due_at", "timestamp", day_end=True),
        Column("finished_at", "timestamp", day_end=True),
        Column("returned_at", "timestamp", day_end=True),
        Column(
            "status",
            "enum",
            required=True,
            choices=tuple(vocab.DOSSIER_STATUSES),
        ),
        Column("supplement_count", "int", default="0", minimum=0),
        Column("supplement_days", "int", default="0", minimum=0),
        _flag("e_result"),
        _flag("digitized"),
        _flag("reused_data"),
        _flag("linked_to_citizen_store"),
        _flag("used_population_data"),
        _flag("synced_to_national"),
        Column("synced_at", "timestamp", day_end=True),
        _flag("has_financial_obligation"),
        _flag("paid_online"),
        _flag("complaint"),
        Column(
            "rating",
            "enum",
            choices=tuple(vocab.RATINGS),
        ),
        _text("source", default="'unknown'"),
    ),
    rules=(
        Rule("finished_at", "finished_at < received_at", BEFORE_RECEIVED["finished"]),
        Rule("returned_at", "returned_at < received_at", BEFORE_RECEIVED["returned"]),
        Rule("due_at", "due_at < received_at", DUE_BEFORE_RECEIVED),
        Rule(
            "finished_at",
            "status IN ('finished', 'returned') AND finished_at IS NULL",
            Said(
                "trạng thái đã xử lý xong hoặc đã trả kết quả nhưng không có ngày kết thúc xử lý",
                "status finished/returned without a finish date",
            ),
        ),
        Rule(
            "paid_online",
            "paid_online AND NOT has_financial_obligation",
            Said(
                "thanh toán trực tuyến nhưng hồ sơ không có nghĩa vụ tài chính",
                "paid online without a financial obligation",
            ),
        ),
        Rule(
            "synced_at",
            "synced_to_national AND synced_at < received_at",
            Said(
                "đồng bộ lên Cổng Dịch vụ công quốc gia trước ngày tiếp nhận",
                "synced to the national portal before received",
            ),
        ),
        *RECEIVED_IN_RANGE,
        *_in_window("finished_at", "finished"),
        *_in_window("returned_at", "returned"),
        *_in_window("synced_at", "synced"),
        *_due_window(),
    ),
    references=(
        Reference("unit_id", "unit", UNKNOWN_UNIT),
        Reference(
            "procedure_code",
            "procedure",
            Said(
                "mã thủ tục hành chính không có trong danh mục thủ tục: sửa mã trong tệp, hoặc nạp danh mục thủ "
                "tục trước (egov-metrics ingest procedure TỆP)",
                "unknown procedure code: correct the code in the file, or load the procedure list first "
                "(egov-metrics ingest procedure FILE)",
            ),
        ),
    ),
)

PROCEDURE = Kind(
    name="procedure",
    name_vi="thủ tục hành chính",
    table="procedure",
    key=("code",),
    default_mapping="procedure",
    description="administrative procedures (thủ tục hành chính)",
    columns=(
        Column("code", "tthc_code", required=True),
        _text("name_vi", required=True),
        _text("name_en"),
        _text("field", required=True),
        Column(
            "level",
            "enum",
            required=True,
            choices=tuple(vocab.PROCEDURE_LEVELS),
        ),
        Column(
            "online_level",
            "enum",
            required=True,
            choices=tuple(vocab.ONLINE_LEVELS),
        ),
        Column("full_online_since", "date"),  # the day it became fully online (before: partial)
        _flag("eligible_full_online"),
        Column(
            "statutory_days",
            "int",
            minimum=0,
            expected=Said(
                "thời hạn giải quyết bằng số ngày làm việc nguyên, như '15 ngày làm việc', 'Không quá 10 ngày "
                "làm việc', 'Trong ngày' (0) hoặc 15; nửa ngày, giờ, tháng, khoảng thời gian và ngày theo lịch "
                "('30 ngày') không được quy đổi: ghi số ngày làm việc tương ứng, hoặc khai báo đúng văn bản đó "
                "trong mục `values` của tệp ánh xạ cột (docs/ingest.md)",
                "the statutory time in whole working days, such as '15 ngày làm việc', 'Không quá 10 ngày làm "
                "việc', 'Trong ngày' (0) or 15; half days, hours, months, ranges and calendar days ('30 ngày') "
                "are not converted: write the working days they mean, or map the exact text to them under "
                "`values` in a mapping (docs/ingest.md)",
            ),
        ),
        _flag("has_fee"),
        _flag("requires_paper_result"),
        Column(
            "applicant_type",
            "enum",
            default="'both'",
            choices=("citizen", "business", "both"),
        ),
        _flag("connected_population_db"),
        Column("content_complete", "bool", default="true"),
        Column("legal_effective_on", "date"),
        Column("published_on", "date"),
        Column("disclosed_on", "date"),
        Column("valid_to", "date"),
    ),
    # Lĩnh vực may be a field's code or its Vietnamese name; new fields are registered after the load
    references=(Reference("field", "field", keep_unknown=True),),
    after_load=("register_fields",),
)

UNIT = Kind(
    name="unit",
    name_vi="đơn vị",
    table="org_unit",
    key=("id",),
    default_mapping="unit",
    aliases=("org_unit",),
    description="organisation units (đơn vị) with validity dates",
    columns=(
        _text("id", required=True),
        _text("code", required=True, fallback="id"),
        _text("name_vi", required=True),
        _text("name_en", required=True, fallback="name_vi"),
        Column(
            "level",
            "enum",
            required=True,
            choices=vocab.LEVELS,
        ),
        _text("parent_id"),
        Column("valid_from", "date", required=True),
        Column("valid_to", "date"),
        _text("successor_id"),
    ),
    rules=(
        Rule(
            "valid_to",
            "valid_to <= valid_from",
            Said("ngày hết hiệu lực không sau ngày bắt đầu hiệu lực", "valid_to not after valid_from"),
        ),
        Rule(
            "parent_id", "parent_id = id", Said("đơn vị là cấp trên của chính nó", "unit is its own parent")
        ),
        Rule(
            "successor_id",
            "successor_id = id",
            Said("đơn vị là đơn vị kế thừa của chính nó", "unit is its own successor"),
        ),
    ),
    references=(
        Reference(
            "parent_id",
            "unit_in_file",
            Said("đơn vị cấp trên không có trong danh mục đơn vị hay trong tệp", "unknown parent unit"),
        ),
        Reference(
            "successor_id",
            "unit_in_file",
            Said("đơn vị kế thừa không có trong danh mục đơn vị hay trong tệp", "unknown successor unit"),
        ),
    ),
    no_cycles=("parent_id", "successor_id"),
    successor="successor_id",
)

FEEDBACK = Kind(
    name="feedback",
    name_vi="phản ánh, kiến nghị",
    table="feedback",
    key=("id",),
    default_mapping="feedback",
    description="citizen feedback (phản ánh, kiến nghị)",
    columns=(
        _text("id", required=True),
        _text("unit_id", required=True),
        Column("received_at", "timestamp", required=True),
        Column("due_at", "timestamp", day_end=True),
        Column("handled_at", "timestamp", day_end=True),
        Column("satisfied", "bool"),
        _text("topic"),
        _text("source", default="'unknown'"),
    ),
    rules=(
        Rule("handled_at", "handled_at < received_at", BEFORE_RECEIVED["handled"]),
        Rule("due_at", "due_at < received_at", DUE_BEFORE_RECEIVED),
        *RECEIVED_IN_RANGE,
        *_in_window("handled_at", "handled"),
        *_due_window(),
    ),
    references=(Reference("unit_id", "unit", UNKNOWN_UNIT),),
)

DATA_EXCHANGE = Kind(
    name="data_exchange",
    name_vi="trao đổi dữ liệu",
    table="data_exchange",
    key=("day", "platform", "source_system", "target_system"),
    default_mapping="data_exchange",
    description="daily integration traffic on LGSP / NDXP",
    total_label_columns=("platform", "source_system", "target_system"),
    columns=(
        Column("day", "date", required=True),
        Column("platform", "enum", required=True, choices=tuple(vocab.PLATFORMS)),
        _text("source_system", required=True),
        _text("target_system", required=True),
        Column("requests", "int", required=True, minimum=0),
        Column("failures", "int", default="0", minimum=0),
        _text("source", default="'unknown'"),
    ),
    rules=(
        Rule(
            "failures",
            "failures > requests",
            Said("số lỗi nhiều hơn số yêu cầu", "more failures than requests"),
        ),
        Rule(
            "day",
            f"day < DATE '{EARLIEST_RECEIVED}'",
            Said(
                f"ngày trước ngày {EARLIEST_DAY}: kiểm tra lại năm",
                f"day before {EARLIEST_RECEIVED}: check the year",
            ),
        ),
        Rule(
            "day",
            "day > CAST(localtimestamp AS DATE) + INTERVAL {margin} DAY",
            Said(
                "ngày ở tương lai (quá {margin} ngày sau hôm nay): kiểm tra lại năm và định dạng ngày",
                "day in the future (more than {margin} day(s) after now): check the year and the date format",
            ),
        ),
    ),
)

#: The registry of kinds, by name: the one place a kind is declared. A mapping's `kind`, `get_kind()` and the
#: command line's `egov-metrics ingest KIND` (its help) all read it; add a kind with `register_kind()`.
KINDS: dict[str, Kind] = {}
_ALIASES: dict[str, str] = {}


def register_kind(kind: Kind) -> Kind:
    """Add (or replace) a kind: mappings may then name it and `egov-metrics ingest` lists and accepts it."""
    KINDS[kind.name] = kind
    _ALIASES.update({alias: kind.name for alias in kind.aliases})
    return kind


def kind_names() -> tuple[str, ...]:
    """The registered kinds' names, in registration order."""
    return tuple(KINDS)


for _kind in (DOSSIER, PROCEDURE, UNIT, FEEDBACK, DATA_EXCHANGE):
    register_kind(_kind)


def get_kind(name: str) -> Kind:
    """The kind called `name` (or one of its aliases); raises with the known kinds otherwise."""
    key = _ALIASES.get(name, name)
    if key not in KINDS:
        raise UnknownNameError.from_choices(Said("loại tệp", "kind"), name, KINDS)
    return KINDS[key]
