"""The QCVN 01:2021/BXD tables as the seeded rules hold them: at and between breakpoints."""
import psycopg
import pytest

from gisapp.permits.coverage import corridor_width, max_net_coverage, min_street_setback


@pytest.fixture(scope="module")
def seeded(test_url):
    with psycopg.connect(test_url) as conn:
        rows = conn.execute("SELECT rule_id, params FROM permit_rules WHERE version = 1")
        return dict(rows.fetchall())


@pytest.mark.parametrize("area, expected", [
    (50, 100.0), (90, 100.0), (100, 90.0), (200, 70.0), (300, 60.0), (500, 50.0),
    (1000, 40.0), (5000, 40.0),
    (95, 95.0),                # halfway 90 → 100 m²: 100 % → 90 %
    (150, 80.0),               # halfway 100 → 200: 90 → 70
    (180, 74.0),               # 90 + (70 − 90) × 80/100
    (250, 65.0), (400, 55.0),
    (750, 45.0),               # halfway 500 → 1000: 50 → 40
    (120.5, 85.9),             # 90 − 20 × 20.5/100
])
def test_net_coverage_is_interpolated_linearly_between_the_table_columns(seeded, area, expected):
    assert max_net_coverage(area, seeded["net_coverage"]["breakpoints"]) == pytest.approx(expected)


@pytest.mark.parametrize("width, height, expected", [
    (14, 10, 0), (14, 19, 0), (14, 19.5, 3), (14, 22, 3), (14, 23, 4), (14, 25, 4),
    (14, 28, 6), (14, 40, 6),
    (19, 22, 0), (20, 25, 3), (21.9, 28, 4), (20, 30, 6),
    (22, 25, 0), (30, 28, 3), (30, 29, 6),
])
def test_setback_takes_the_width_row_and_the_next_height_column_up(seeded, width, height, expected):
    assert min_street_setback(width, height, seeded["street_setback"]) == expected


@pytest.mark.parametrize("diameter, expected", [(300, 1.0), (600, 1.0), (800, 2.0),
                                                (1500, 2.0), (2000, 3.0), (None, 3.0)])
def test_corridor_width_follows_the_pipe_class(seeded, diameter, expected):
    assert corridor_width(diameter, seeded["drainage_corridor"]) == expected
