"""`gisapp fonts build`: glyph PBFs for map labels from the installed Noto fonts."""
from __future__ import annotations

from pathlib import Path

import click

from gisapp.settings import Settings
from tiles.fonts import FONT_STACKS, GlyphsNotBuilt, build_fonts


@click.group("fonts")
def fonts() -> None:
    """Self-hosted glyphs for map labels."""


@fonts.command("build")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the glyphs (default: MAP_ASSETS_DIR/fonts).")
@click.option("--force", is_flag=True, help="Rebuild even when the glyphs are up to date.")
def build(directory: Path | None, force: bool) -> None:
    """Build the glyph ranges of every font stack (quick when already built)."""
    target = directory or Settings.load().glyph_dir()
    try:
        report = build_fonts(target, force=force)
    except GlyphsNotBuilt as exc:
        raise click.ClickException(str(exc)) from None
    if report.built:
        click.echo(f"built {report.glyphs} glyphs in {report.ranges} ranges of "
                   f"{report.stacks} font stacks into {target} in {report.seconds:.1f} s")
    else:
        click.echo(f"glyphs in {target} are up to date ({', '.join(FONT_STACKS)})")
