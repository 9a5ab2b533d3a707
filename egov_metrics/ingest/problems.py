"""The kinds of problem a rejected row can have (`quarantine.problem`), named in both languages: what the
ingest's checks record (`ingest.sql`) and the progress report's data-quality table counts. Nothing here
imports the ingest machinery, so a report can name the problems without loading it."""

from __future__ import annotations

from egov_metrics.said import Said

#: The kinds of problem a rejected row can have (`quarantine.problem`), named for a table of rejected rows
#: by kind (the progress report's data quality); a rule's own reason names its problem ('rule').
PROBLEMS: dict[str, Said] = {
    "too_many_fields": Said("Dòng có nhiều trường hơn tiêu đề", "More fields than the header"),
    "damaged": Said("Giá trị có ký tự điều khiển (tệp hỏng)", "Control character in a value (damaged file)"),
    "too_long": Said("Giá trị quá dài", "Value too long"),
    "unparseable": Said("Giá trị không đọc được", "Value that cannot be read"),
    "out_of_range": Said("Số ngoài khoảng cho phép", "Number out of range"),
    "ambiguous_date": Said("Ngày có thể bị đảo ngày và tháng", "Day and month may be swapped"),
    "missing": Said("Thiếu giá trị bắt buộc", "Required value missing"),
    "unknown": Said("Mã không có trong danh mục", "Code not in the reference list"),
    "unit_not_valid": Said("Đơn vị không tồn tại vào ngày tiếp nhận", "Unit not in existence on the day"),
    "duplicate": Said("Trùng mã", "Duplicate key"),
    "cycle": Said(
        "Vòng lặp cấp trên hoặc kế thừa giữa các đơn vị", "Units in a cycle of parents or successors"
    ),
    "uncalculated": Said("Công thức không có giá trị đã lưu", "Formula without a saved value"),
    "successor_not_valid": Said(
        "Đơn vị kế thừa không tồn tại vào ngày đơn vị hết hiệu lực",
        "Successor not in existence when the unit ends",
    ),
}
