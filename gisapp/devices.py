"""Device accounts: a user of role `device` bound to one thing, with tokens to post its readings."""
from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from gisapp import accounts
from gisapp.db.tables import device_things, users
from gisapp.errors import NotFound
from store.sensor_tables import things


def device_user_name(thing_code: str) -> str:
    """The user a thing's device signs in as: device-pump_station/TB-20242-01."""
    return f"device-{thing_code}"


def issue_device_token(conn: Connection, thing_code: str) -> tuple[str, int, str]:
    """(user name, token id, token) for the thing's device, making and binding the user once."""
    thing_id = conn.execute(select(things.c.id).where(things.c.code == thing_code)).scalar()
    if thing_id is None:
        raise NotFound(f"no thing with code {thing_code!r}; codes look like "
                       "pump_station/TB-20242-01 (see GET /sta/v1.1/Things)")
    name = device_user_name(thing_code)
    user_id = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
    if user_id is None:
        user_id = accounts.add_user(conn, name, "device", display_name=f"device of {thing_code}")
    conn.execute(insert(device_things).values(user_id=user_id, thing_id=thing_id)
                 .on_conflict_do_update(index_elements=["user_id"],
                                        set_={"thing_id": thing_id}))
    token_id, token = accounts.create_token(conn, name, f"device token for {thing_code}")
    return name, token_id, token
