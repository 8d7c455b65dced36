"""Broker accounts: the ingest subscriber's and one per device, each with its topics.

Passwords are hashed into the password file by Debian's `mosquitto_passwd`; what each
account may do is the ACL rendered from `accounts.json` (the ingest account reads every
`v1.1/` topic; a device writes only its own datastreams' Observations topics). A running
broker reads both again on SIGHUP.
"""
from __future__ import annotations

import json
import secrets
import subprocess

from gisapp.mqtt.broker import BrokerConfig, BrokerError, find_program, give_to_broker, reload
from gisapp.mqtt.topics import observations_topic

INGEST_TOPICS = ("v1.1/#",)


def _accounts(cfg: BrokerConfig) -> dict[str, dict]:
    if not cfg.accounts_file.exists():
        return {}
    return json.loads(cfg.accounts_file.read_text())


def render_acl(accounts: dict[str, dict]) -> str:
    """The ACL file: each account's read and write topics, nothing else allowed."""
    lines = ["# Written by gisapp (gisapp mqtt accounts): edits are overwritten."]
    for user in sorted(accounts):
        lines += ["", f"user {user}"]
        lines += [f"topic read {t}" for t in accounts[user].get("read", ())]
        lines += [f"topic write {t}" for t in accounts[user].get("write", ())]
    return "\n".join(lines) + "\n"


def set_password(cfg: BrokerConfig, user: str, password: str) -> None:
    """Add `user` to the password file or change its password (mosquitto_passwd -b)."""
    if not user or ":" in user or any(c.isspace() for c in user):
        raise BrokerError(f"{user!r} is not an account name: no colon or whitespace allowed")
    program = find_program("mosquitto_passwd", "GISAPP_MOSQUITTO_PASSWD")
    cfg.directory.mkdir(parents=True, exist_ok=True)
    create = [] if cfg.password_file.exists() and cfg.password_file.stat().st_size else ["-c"]
    result = subprocess.run([program, *create, "-b", str(cfg.password_file), user, password],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BrokerError(f"mosquitto_passwd refused account {user!r}: "
                          f"{(result.stderr or result.stdout).strip()}")


def _save(cfg: BrokerConfig, accounts: dict[str, dict]) -> None:
    cfg.accounts_file.write_text(json.dumps(accounts, indent=1, sort_keys=True))
    cfg.acl_file.write_text(render_acl(accounts))
    give_to_broker(cfg)
    reload(cfg)


def ensure_ingest_account(cfg: BrokerConfig) -> None:
    """The subscriber's account from MQTT_URL: its password set, reading every sensor topic."""
    accounts = _accounts(cfg)
    set_password(cfg, cfg.address.user, cfg.address.password)
    accounts[cfg.address.user] = {"read": list(INGEST_TOPICS), "write": []}
    _save(cfg, accounts)


def add_device(cfg: BrokerConfig, user: str, datastream_ids: list[int],
               password: str | None = None) -> str:
    """Create or change a device account writing to these datastreams; returns its password."""
    return set_account(cfg, user, write=[observations_topic(i) for i in
                                         sorted(set(datastream_ids))], password=password)


def set_account(cfg: BrokerConfig, user: str, *, read: list[str] = (),
                write: list[str] = (), password: str | None = None) -> str:
    """Create or change an account with these topic patterns; returns its password."""
    if user == cfg.address.user:
        raise BrokerError(f"{user!r} is the ingest account (MQTT_URL); choose another name")
    password = password or secrets.token_urlsafe(18)
    set_password(cfg, user, password)
    accounts = _accounts(cfg)
    accounts[user] = {"read": list(read), "write": list(write)}
    _save(cfg, accounts)
    return password


def remove_account(cfg: BrokerConfig, user: str) -> bool:
    """Delete an account (password and topics); False when there was none."""
    accounts = _accounts(cfg)
    if user not in accounts:
        return False
    program = find_program("mosquitto_passwd", "GISAPP_MOSQUITTO_PASSWD")
    subprocess.run([program, "-D", str(cfg.password_file), user], capture_output=True,
                   text=True, check=False)
    del accounts[user]
    _save(cfg, accounts)
    return True


def list_accounts(cfg: BrokerConfig) -> dict[str, dict]:
    """Every account with its read and write topics."""
    return _accounts(cfg)
