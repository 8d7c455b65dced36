"""Rules every declared layer must follow."""
import re

import pytest

from layers import LAYERS, TABLES, THEMES, Access, UnknownLayer, get_layer, levels_for
from layers.land_use_codes import LAND_USE_CODES
from layers.model import LANGUAGES, Layer
from layers.vocabulary import CHANGE_KINDS, NAMES, UNITS

IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.mark.parametrize("layer", LAYERS.values(), ids=list(LAYERS))
def test_layer_declaration_is_complete(layer: Layer):
    assert IDENT.match(layer.id) and layer.id == layer.table
    assert layer.theme in THEMES
    assert 0 <= layer.minzoom <= layer.maxzoom <= 22
    names = [f.name for f in layer.fields]
    assert len(names) == len(set(names)), "duplicate field names"
    assert all(IDENT.match(n) for n in names)
    assert set(layer.key) <= set(names), "key fields must be declared"
    for f in layer.fields:
        assert set(f.label) == set(LANGUAGES) and all(f.label.values()), f.name
    assert all(layer.field(k).required or layer.field(k).generated for k in layer.key)
    assert layer.geometry_type in {"Point", "LineString", "MultiLineString", "MultiPolygon",
                                   "MultiPoint", "Polygon"}
    if layer.style.by:
        assert layer.style.by[0] in names


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_table_declaration_is_complete(table):
    names = [f.name for f in table.fields]
    assert set(table.key) <= set(names)


def test_registry_covers_the_design_layers():
    expected = {"roads", "water", "buildings", "wards", "parcels", "drainage_nodes",
                "drainage_pipes", "lighting_cabinets", "street_lights", "wifi_aps", "zoning",
                "road_reserves", "flood_zones", "heritage_areas"}
    assert expected <= set(LAYERS)
    assert {"parties", "rights"} <= set(TABLES)


def test_unknown_layer_raises():
    with pytest.raises(UnknownLayer, match="unknown layer 'nope'"):
        get_layer("nope")


def test_personal_fields_only_for_permit_officers_and_admins():
    personal = [f for t in TABLES.values() for f in t.fields if f.access == Access.PERSONAL]
    assert personal, "parties carry personal data"
    for role in ("public", "planner", "etl_operator"):
        assert Access.PERSONAL not in levels_for(role)
    for role in ("permit_officer", "admin"):
        assert Access.PERSONAL in levels_for(role)
    assert levels_for("no-such-role") == levels_for("public")


def test_public_sees_no_staff_fields_of_parcels():
    parcels = get_layer("parcels")
    public = {f.name for f in parcels.visible_fields(levels_for("public"))}
    planner = {f.name for f in parcels.visible_fields(levels_for("planner"))}
    assert "certificate_no" not in public and "certificate_no" in planner


CODED = [(decl.id, field) for decl in [*LAYERS.values(), *TABLES.values()]
         for field in decl.fields if field.choices]


@pytest.mark.parametrize("decl_id,field", CODED, ids=[f"{d}.{f.name}" for d, f in CODED])
def test_every_declared_choice_has_vietnamese_and_english_names(decl_id, field):
    from layers.vocabulary import value_names

    names = value_names(field)
    assert set(names) == set(field.choices), f"unnamed: {set(field.choices) - set(names)}"
    assert all(n["vi"].strip() and n["en"].strip() for n in names.values())


@pytest.mark.parametrize("layer", [la for la in LAYERS.values() if la.style.by],
                         ids=[la.id for la in LAYERS.values() if la.style.by])
def test_every_coloured_value_has_a_name_for_the_legend(layer: Layer):
    from layers.vocabulary import value_name

    field, pairs = layer.style.by
    assert [value for value, _ in pairs if value_name(field, value) is None] == []


@pytest.mark.parametrize("layer", LAYERS.values(), ids=list(LAYERS))
def test_a_declared_tile_cap_is_a_positive_count(layer: Layer):
    assert layer.tile_max_features is None or (
        isinstance(layer.tile_max_features, int) and layer.tile_max_features > 0)


def test_every_declared_unit_is_written_in_both_languages():
    from layers.vocabulary import UNITS

    units = {f.unit for decl in [*LAYERS.values(), *TABLES.values()] for f in decl.fields
             if f.unit}
    assert units <= set(UNITS), f"units without names: {units - set(UNITS)}"


def test_year_fields_are_integers():
    from layers import FieldType

    years = [f for decl in [*LAYERS.values(), *TABLES.values()] for f in decl.fields if f.year]
    assert years and all(f.type is FieldType.INTEGER for f in years)


def test_every_text_of_the_registry_is_keyed_by_every_language():
    """Titles, labels, theme and value names are {language: text}: a language is data."""
    texts = {**{f"theme {k}": v for k, v in THEMES.items()},
             **{f"{k} values": v for k, v in NAMES.items()},
             **{f"land use {k}": c.name for k, c in LAND_USE_CODES.items()},
             **{f"unit {k}": v for k, v in UNITS.items()},
             **{f"change {k}": v for k, v in CHANGE_KINDS.items()}}
    for decl in (*LAYERS.values(), *TABLES.values()):
        texts[decl.id] = decl.title
        texts.update({f"{decl.id}.{f.name}": f.label for f in decl.fields})
    for what, text in texts.items():
        assert set(text) == set(LANGUAGES) and all(text.values()), what
