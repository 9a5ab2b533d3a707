"""The alerts digest: what changed since the last scheduled run, in Vietnamese, for a page and for mail hooks.

Snapshots are written by hand here (the shape of `front_page_facts`), so every expected line is known."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from egov_metrics import alerts


def snapshot(**changes: object) -> dict:
    base = {
        "period": "2026-10",
        "province": "Tỉnh Ninh Thuận",
        "names": {"SYT": "Sở Y tế", "STP": "Sở Tư pháp", "X1": "Xã Một"},
        "units": [
            {"id": "SYT", "name": "Sở Y tế", "level": "department", "total": 86.0, "band": "tốt", "rank": 1,
             "rank_among": 3},
            {"id": "STP", "name": "Sở Tư pháp", "level": "department", "total": 84.0, "band": "tốt", "rank": 2,
             "rank_among": 3},
            {"id": "X1", "name": "Xã Một", "level": "commune", "total": 91.0, "band": "xuất sắc", "rank": 1,
             "rank_among": 1},
        ],
        "statuses": {
            "dossiers_on_time": {"status": "on_track", "name": "Tỷ lệ hồ sơ đúng hạn", "target": 98.0,
                                 "current": 97.0, "unit": "percent"},
            "paid_online": {"status": "off_track", "name": "Tỷ lệ thanh toán trực tuyến", "target": 40.0,
                            "current": 20.0, "unit": "percent"},
        },
        "overdue": {"SYT": 5.0, "STP": 30.0, "X1": 0.0},
    }  # fmt: skip
    base.update(changes)
    return base


def test_nothing_to_compare_on_the_first_run() -> None:
    now = snapshot()
    assert alerts.compare(None, now) == []
    text = alerts.digest_text([], now, None)
    assert "Lần chạy đầu tiên" in text


def test_the_same_snapshot_twice_has_no_change() -> None:
    assert alerts.compare(snapshot(), snapshot()) == []
    assert "Không có thay đổi đáng chú ý." in alerts.digest_text([], snapshot(), snapshot())


def test_band_rank_group_target_and_overdue_changes() -> None:
    before = snapshot()
    now = snapshot(period="2026-11")
    now["units"] = [
        {**before["units"][0], "total": 78.5, "band": "khá", "rank": 3},  # SYT: tốt → khá, top third → bottom
        {**before["units"][1], "rank": 1},  # STP: up, no alert
        before["units"][2],
    ]
    now["statuses"] = {
        **before["statuses"],
        "dossiers_on_time": {**before["statuses"]["dossiers_on_time"], "status": "at_risk"},
    }
    now["overdue"] = {"SYT": 14.0, "STP": 41.0, "X1": 0.0}  # +9 (below 10) and +11
    changes = alerts.compare(before, now)
    assert [(c.kind, c.text) for c in changes] == [
        ("band", "Sở Y tế: xuống xếp loại “khá” (trước: “tốt”), 78,50 điểm."),
        ("rank_group", "Sở Y tế: từ nhóm đầu xuống nhóm cuối (hạng 3/3, trước 1/3)."),
        (
            "target",
            "Tỷ lệ hồ sơ đúng hạn: chuyển từ “đúng tiến độ” sang “có nguy cơ” (hiện 97,0 %, mục tiêu năm 98,0 %).",
        ),
        ("overdue", "Sở Tư pháp: hồ sơ quá hạn tăng thêm 11, lên 41."),
    ]
    # a target already off track is not news; the threshold is configurable
    assert not [c for c in changes if "thanh toán" in c.text]
    loose = alerts.compare(before, now, alerts.AlertRules(overdue_growth=5))
    assert [c.text for c in loose if c.kind == "overdue"] == [
        "Sở Tư pháp: hồ sơ quá hạn tăng thêm 11, lên 41.",
        "Sở Y tế: hồ sơ quá hạn tăng thêm 9, lên 14.",
    ]


def test_rank_groups_are_thirds_of_the_peers() -> None:
    assert [alerts.rank_group(r, 9) for r in range(1, 10)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert alerts.rank_group(1, 1) == 0 and alerts.rank_group(None, 3) is None


def test_publish_writes_page_text_state_and_feeds_the_command(tmp_path: Path) -> None:
    received = tmp_path / "received.txt"
    command = f"{sys.executable} -c \"import sys; open({str(received)!r}, 'w').write(sys.stdin.read())\""
    first, changes, error = alerts.publish(tmp_path, snapshot(), command=command)
    assert error is None and changes == [] and "Lần chạy đầu tiên" in first
    later = snapshot(period="2026-11", overdue={"SYT": 5.0, "STP": 45.0, "X1": 0.0})
    text, changes, error = alerts.publish(tmp_path, later, command=command)
    assert error is None and [c.kind for c in changes] == ["overdue"]
    assert (
        received.read_text(encoding="utf-8") == text == (tmp_path / alerts.TEXT).read_text(encoding="utf-8")
    )
    assert text.splitlines()[0] == (
        "Thay đổi cần chú ý · Tỉnh Ninh Thuận · tháng 11/2026 so với lần chạy trước (tháng 10/2026)"
    )
    assert "Hồ sơ quá hạn tăng mạnh:\n- Sở Tư pháp: hồ sơ quá hạn tăng thêm 15, lên 45." in text
    page = (tmp_path / alerts.PAGE).read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "Sở Tư pháp: hồ sơ quá hạn tăng thêm 15, lên 45." in page
    assert json.loads((tmp_path / alerts.STATE_FILE).read_text(encoding="utf-8"))["period"] == "2026-11"
    _, _, error = alerts.publish(tmp_path, later, command="exit 3")
    assert error is not None and error.startswith("alert command exited 3")
