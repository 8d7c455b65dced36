"""Schools and health facilities: points on the base map, with icons and names."""
from layers.model import Field, FieldType as T, Label, Layer, OsmMapping, Style
from layers.sources import OPENSTREETMAP

FACILITY_KINDS = ("school", "kindergarten", "college", "university", "hospital", "clinic",
                  "doctors", "dentist", "pharmacy")
EDUCATION = ("school", "kindergarten", "college", "university")
HEALTH = ("hospital", "clinic", "doctors", "dentist", "pharmacy")

FACILITIES = Layer(
    id="facilities",
    title={"vi": "Trường học, cơ sở y tế", "en": "Schools and health facilities"},
    theme="base",
    key=("facility_id",),
    geometry_type="Point",
    minzoom=13,
    style=Style("circle", "#54508f", radius=5.0, opacity=1.0, label="name",
                by=("kind", (*((k, "#54508f") for k in EDUCATION), ("hospital", "#d7301f"),
                             *((k, "#c51b7d") for k in HEALTH[1:]))),
                icons=("kind", (*((k, "school") for k in EDUCATION), ("hospital", "hospital"),
                                *((k, "clinic") for k in HEALTH[1:]))),
                icon_zoom=14,
                labels=(Label("name", minzoom=16, size=11),)),
    fields=(
        Field("facility_id", T.TEXT, {"vi": "Mã cơ sở", "en": "Facility id"}, required=True),
        Field("kind", T.TEXT, {"vi": "Loại cơ sở", "en": "Kind"}, choices=FACILITY_KINDS),
        Field("name", T.TEXT, {"vi": "Tên", "en": "Name"}),
        Field("address", T.TEXT, {"vi": "Địa chỉ", "en": "Address"}),
    ),
    # schools, universities, hospitals, clinics; grounds mapped as areas are taken at a point
    # inside them. The kind is the amenity, else the healthcare tag (a field listed twice).
    osm=OsmMapping(
        elements=("points", "multipolygons"),
        select=(("amenity", ("school", "kindergarten", "college", "university", "hospital",
                             "clinic", "doctors")), ("healthcare", ())),
        fields=(("kind", "amenity"), ("kind", "healthcare"), ("name", "name"),
                ("address", ("addr:housenumber", "addr:street"))),
        values=(("kind", (*((k, k) for k in FACILITY_KINDS), ("doctor", "doctors"),
                          ("centre", "clinic"), ("vaccination_centre", "clinic"))),),
    ),
    description={"en": "Schools, universities, hospitals and clinics, from OpenStreetMap."},
    source=OPENSTREETMAP,
)
