"""`gisapp sprite build`: the map's icon sprite (1x and 2x) from static/icons/*.svg."""
from __future__ import annotations

from pathlib import Path

import click

from gisapp.settings import Settings
from tiles.sprite import ICON_DIR, SpriteError, build_sprite, icon_names


@click.group("sprite")
def sprite() -> None:
    """The icon sprite of the map style."""


@sprite.command("build")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the sprite (default: MAP_ASSETS_DIR/sprite).")
@click.option("--icons", "icon_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), default=ICON_DIR, show_default=True,
              help="The SVG icons (an installed package has no static/ beside it).")
@click.option("--force", is_flag=True, help="Rebuild even when the sprite is up to date.")
def build(directory: Path | None, icon_dir: Path, force: bool) -> None:
    """Rasterise the icons at 1x and 2x (quick when already built)."""
    target = directory or Settings.load().sprite_dir()
    try:
        built = build_sprite(target, icon_dir, force=force)
    except SpriteError as exc:
        raise click.ClickException(str(exc)) from None
    names = ", ".join(icon_names(icon_dir))
    click.echo(f"{'built' if built else 'up to date:'} sprite of {names} in {target}")
