"""``kexue index``: inspect the index on disk."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.index_store import IndexError_, current_version, dir_size, read_manifest
from app.settings import Settings
from app.whitening import describe


def index_info(index_dir: Path) -> dict:
    """Posts per source and format, chunks, dimension and size on disk of the current version."""
    manifest = read_manifest(index_dir)
    version = current_version(index_dir)
    return {
        "index": str(index_dir), "version": version.name, "created": manifest["created"],
        "embedder": manifest["embedder"]["name"], "dim": manifest["stats"]["dim"],
        "stored_dim": (manifest.get("whitening") or {}).get("k", manifest["stats"]["dim"]),
        "whitening": manifest.get("whitening"), "faiss": manifest["index"]["kind"],
        "posts": manifest["stats"]["posts"], "chunks": manifest["stats"]["chunks"],
        "by_source": manifest["stats"]["by_source"], "by_format": manifest["stats"]["by_format"],
        "excerpt_only": sum(1 for p in manifest["posts"].values() if p["excerpt"]),
        "size_bytes": dir_size(version), "skipped_last_run": len(manifest.get("skipped", [])),
    }


def print_info(info: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"index      {info['index']} (version {info['version']}, built {info['created']})")
    click.echo(f"embedder   {info['embedder']}, dimension {info['dim']}, FAISS {info['faiss']} of "
               f"{info['stored_dim']}-dimensional vectors")
    click.echo(f"whitening  {describe(info['whitening'])}")
    drift = (info["whitening"] or {}).get("drift")
    if drift:
        advice = "; refit advised: `kexue ingest --refit-whitening`" if drift["refit_advised"] else ""
        click.echo(f"drift      {drift['new_share']:.1%} of the chunks embedded since the fit, second-moment "
                   f"distance {drift['second_moment_distance']:.3f} at the last ingest{advice}")
    click.echo(f"posts      {info['posts']} ({info['excerpt_only']} excerpt only), chunks {info['chunks']}")
    click.echo("by source  " + ", ".join(f"{k}: {v}" for k, v in sorted(info["by_source"].items())))
    click.echo("by format  " + ", ".join(f"{k}: {v}" for k, v in sorted(info["by_format"].items())))
    click.echo(f"size       {info['size_bytes'] / 1e6:.1f} MB on disk")


@click.group()
def index() -> None:
    """Inspect the index (see `kexue ingest` to build it)."""


@index.command()
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def info(settings: Settings, index_dir: Path | None, as_json: bool) -> None:
    """Show posts per source and format, chunks, dimension and size on disk."""
    try:
        print_info(index_info(index_dir or settings.index_dir), as_json)
    except IndexError_ as exc:
        raise click.ClickException(str(exc)) from None
